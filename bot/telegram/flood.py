"""Per-chat flood control: a chat that floods the bot is slowed down, told once, and never answered a hundred times."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    """What to do with one question from a chat."""

    ANSWER = "answer"
    NOTICE = "notice"
    """Over the limit for the first time in a burst: say so once, do not answer."""
    DROP = "drop"
    """Still over the limit: stay silent."""


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float
    noticed: bool = False


class FloodGate:
    """Allow `per_minute` questions per chat on average, in bursts of up to `per_minute` (a token bucket)."""

    def __init__(
        self, per_minute: int, *, clock: Callable[[], float] = time.monotonic, max_chats: int = 10_000
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._clock = clock
        self._max_chats = max_chats
        self._buckets: dict[int, _Bucket] = {}

    def check(self, chat_id: int) -> Verdict:
        """Take one question from a chat and say whether to answer it."""
        now = self._clock()
        bucket = self._buckets.get(chat_id)
        if bucket is None:
            if len(self._buckets) >= self._max_chats:
                self._forget_full(now)
            bucket = self._buckets[chat_id] = _Bucket(tokens=float(self.per_minute), updated=now)
        else:
            bucket.tokens = min(float(self.per_minute), bucket.tokens + (now - bucket.updated) * self._rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.noticed = False
            return Verdict.ANSWER
        if bucket.noticed:
            return Verdict.DROP
        bucket.noticed = True
        return Verdict.NOTICE

    def _forget_full(self, now: float) -> None:
        # Buckets that have refilled carry no state worth keeping; drop them to bound memory.
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * self._rate >= self.per_minute]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self._max_chats:
            self._buckets.pop(next(iter(self._buckets)))
