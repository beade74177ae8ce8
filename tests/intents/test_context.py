"""Follow-up questions read against the last answered entry; a question that stands on its own never bent."""

from __future__ import annotations

import pytest

from intents import Context, Engine, Outcome
from intents.context import asks_for_more, is_follow_up


@pytest.fixture
def after_startup_time(engine: Engine) -> Context:
    first = engine.ask("企业开办要几天")
    assert first.context == Context(last_intent="business_registration_time")
    return first.context


def test_a_follow_up_that_is_vague_alone_is_read_against_the_last_entry(
    engine: Engine, after_startup_time: Context
) -> None:
    assert engine.ask("旗县呢").outcome is not Outcome.ANSWER  # alone it is unsure
    answer = engine.ask("旗县呢", after_startup_time)
    assert answer.intent == "business_registration_county_time" and "1.5个工作日" in answer.text
    assert answer.context.last_intent == "business_registration_county_time"


def test_a_year_follow_up_answers_the_same_entry_or_says_the_year_is_missing(
    engine: Engine, after_startup_time: Context
) -> None:
    same = engine.ask("2020年呢", after_startup_time)
    assert same.intent == "business_registration_time" and "1个工作日内" in same.text
    other = engine.ask("2025年呢", after_startup_time)
    assert other.outcome is Outcome.PARTIAL and "报道没有给出2025年" in other.text and "0.5个工作日" in other.text


def test_asking_for_more_offers_the_sibling_entries(engine: Engine, after_startup_time: Context) -> None:
    answer = engine.ask("还有别的吗", after_startup_time)
    assert answer.outcome is Outcome.SUGGEST and answer.suggestions
    siblings = {e.id for e in engine.kb.entries.values() if e.topic_id == "business_registration"} | set(
        engine.kb.entries["business_registration_time"].related
    )
    assert {s.intent for s in answer.suggestions} <= siblings - {"business_registration_time"}


@pytest.mark.parametrize("question", ["办不成事去哪反映", "那注销呢", "怎么办理护照"])
def test_a_question_that_stands_on_its_own_is_not_bent(
    engine: Engine, after_startup_time: Context, question: str
) -> None:
    alone = engine.ask(question)
    with_context = engine.ask(question, after_startup_time)
    assert (with_context.outcome, with_context.intent) == (alone.outcome, alone.intent)


def test_without_context_nothing_changes(engine: Engine) -> None:
    assert engine.ask("旗县呢", Context()).outcome == engine.ask("旗县呢").outcome
    assert engine.ask("旗县呢", Context(last_intent="no_such_entry")).outcome == engine.ask("旗县呢").outcome


def test_follow_up_shapes() -> None:
    assert is_follow_up("那注销呢") and is_follow_up("旗县呢") and is_follow_up("还有别的吗")
    assert not is_follow_up("企业开办要几天")
    assert asks_for_more("还有别的吗") and asks_for_more("还有吗") and not asks_for_more("还有哪些材料")
