"""What a conversation remembers between two questions, so a follow-up ("那注销呢", "旗县呢") can be read."""

from __future__ import annotations

import re
from dataclasses import dataclass

FOLLOW_UP = re.compile(r"^(?:那么?|那个|还有|然后)|(?:呢|啊|吗)$")
"""A message shaped like a follow-up: it leans on what came before (那…, …呢)."""
MORE = re.compile(r"^(?:那|那么)?还有(?:别的|其他|其它|什么|啥)?(?:的|问题|内容)?(?:吗|么|呢|没有)?$")
"""A request for more on the same subject (还有别的吗)."""


@dataclass(frozen=True, slots=True)
class Context:
    """The last answered entry and the suggestions last offered; the façade stores it per conversation."""

    last_intent: str | None = None
    suggestions: tuple[str, ...] = ()


def is_follow_up(normalized: str) -> bool:
    """Return True when a normalised message is shaped like a follow-up question."""
    text = "".join(normalized.split())
    return bool(text) and (FOLLOW_UP.search(text) is not None or MORE.fullmatch(text) is not None)


def asks_for_more(normalized: str) -> bool:
    """Return True for "还有别的吗" and its variants."""
    return MORE.fullmatch("".join(normalized.split())) is not None
