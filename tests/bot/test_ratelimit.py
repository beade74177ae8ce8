"""The token bucket shared by the HTTP API and Telegram flood control."""

from __future__ import annotations

from bot.ratelimit import RateLimiter


def test_bucket_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert all(limiter.hit("k").allowed for _ in range(60))
    refused = limiter.hit("k")
    assert not refused.allowed and refused.retry_after == 1
    now[0] += 1.0
    assert limiter.hit("k").allowed
    assert not limiter.hit("k").allowed


def test_limiter_memory_stays_bounded() -> None:
    now = [0.0]
    limiter = RateLimiter(10, clock=lambda: now[0], max_keys=100)
    for i in range(1000):
        now[0] += 0.001
        limiter.hit(f"ip:{i}")
    assert len(limiter._buckets) <= 100
