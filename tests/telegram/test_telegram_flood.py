"""Per-chat flood control."""

from __future__ import annotations

from bot.telegram.flood import FloodGate, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_answered_up_to_the_limit_then_one_notice_then_silence() -> None:
    gate = FloodGate(5, clock=Clock())
    verdicts = [gate.check(1) for _ in range(100)]
    assert verdicts[:5] == [Verdict.ANSWER] * 5
    assert verdicts[5] == Verdict.NOTICE
    assert set(verdicts[6:]) == {Verdict.DROP}


def test_the_chat_is_slowed_to_the_rate_and_may_be_told_again_after_recovering() -> None:
    clock = Clock()
    gate = FloodGate(6, clock=clock)  # one question every 10 seconds on average
    for _ in range(7):
        gate.check(1)
    clock.now += 10
    assert gate.check(1) == Verdict.ANSWER
    assert gate.check(1) == Verdict.NOTICE
    clock.now += 5
    assert gate.check(1) == Verdict.DROP


def test_chats_are_limited_separately() -> None:
    gate = FloodGate(1, clock=Clock())
    assert gate.check(1) == Verdict.ANSWER and gate.check(1) == Verdict.NOTICE
    assert gate.check(2) == Verdict.ANSWER


def test_memory_is_bounded() -> None:
    clock = Clock()
    gate = FloodGate(2, clock=clock, max_chats=100)
    for chat in range(1000):
        gate.check(chat)
    assert len(gate._limiter._buckets) <= 100 and len(gate._noticed) <= 100
