"""A token-bucket rate limiter, shared by the adapters: per API key or client address, per Telegram chat."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether one request may proceed, and if not, how many whole seconds to wait."""

    allowed: bool
    remaining: int
    retry_after: int = 0


class RateLimiter:
    """Allow `per_minute` requests per key on average, in bursts of up to `per_minute`."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[Hashable, _Bucket] = {}

    @property
    def max_keys(self) -> int:
        """Return how many keys the limiter remembers at most."""
        return self._max_keys

    def hit(self, key: Hashable) -> Decision:
        """Take one token from key's bucket, or say how long until one is available."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
        else:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return Decision(True, int(bucket.tokens))
        return Decision(False, 0, max(1, math.ceil((1.0 - bucket.tokens) / self.rate)))

    def _prune(self, now: float) -> None:
        # A bucket that has refilled is indistinguishable from a new one: forget it. Memory stays bounded
        # even when many addresses each send one request.
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.capacity]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self._max_keys:  # all busy: drop the oldest half rather than grow
            oldest = sorted(self._buckets, key=lambda k: self._buckets[k].updated)[: self._max_keys // 2]
            for key in oldest:
                del self._buckets[key]
