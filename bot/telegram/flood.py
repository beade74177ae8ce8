"""Per-chat flood control: a chat that floods the bot is slowed down, told once, and never answered a hundred times."""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

from bot.ratelimit import RateLimiter


class Verdict(StrEnum):
    """What to do with one question from a chat."""

    ANSWER = "answer"
    NOTICE = "notice"
    """Over the limit for the first time in a burst: say so once, do not answer."""
    DROP = "drop"
    """Still over the limit: stay silent."""


class FloodGate:
    """Allow `per_minute` questions per chat on average, in bursts of up to `per_minute` (a token bucket)."""

    def __init__(
        self, per_minute: int, *, clock: Callable[[], float] = time.monotonic, max_chats: int = 10_000
    ) -> None:
        self.per_minute = per_minute
        self._limiter = RateLimiter(per_minute, clock=clock, max_keys=max_chats)
        self._noticed: set[int] = set()
        """Chats told they are too fast since their last answered question."""

    def check(self, chat_id: int) -> Verdict:
        """Take one question from a chat and say whether to answer it."""
        if self._limiter.hit(chat_id).allowed:
            self._noticed.discard(chat_id)
            return Verdict.ANSWER
        if chat_id in self._noticed:
            return Verdict.DROP
        if len(self._noticed) >= self._limiter.max_keys:
            self._noticed.clear()  # bounded memory; at worst a flooding chat is told once more
        self._noticed.add(chat_id)
        return Verdict.NOTICE
