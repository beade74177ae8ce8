"""Every cache the engine fills from questions has a cap: a stream of new words cannot grow memory for ever."""

from __future__ import annotations

import random

import pytest

import intents.lexicon as lexicon
import intents.matcher as matcher
from intents import Engine, Outcome
from knowledge import KnowledgeBase


def test_caches_stay_under_their_caps_on_a_stream_of_new_words(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lexicon, "WEIGHT_CACHE_SIZE", 200)
    monkeypatch.setattr(matcher, "_CREDIT_CACHE_SIZE", 300)
    engine = Engine(kb)
    rng = random.Random(7)
    chars = [chr(c) for c in range(0x4E00, 0x9FA5)]
    for i in range(3_000):
        word = "".join(rng.choice(chars) for _ in range(3))
        engine.ask(f"{word}企业开办要几天{i}x{rng.randrange(10**9)}")
        assert engine.analyzer.lexicon.cached_weights <= 200
        assert len(engine.matcher._credits) <= 300
    answer = engine.ask("企业开办要几天")  # emptied caches never change an answer
    assert answer.outcome is Outcome.ANSWER and "0.5个工作日" in answer.figures
