"""Background told before a question (who asks, why) does not drown the question; a place or year never drops."""

from __future__ import annotations

import pytest

from intents import Engine, Outcome


def test_a_question_after_background_clauses_is_answered(engine: Engine) -> None:
    question = "我是做餐饮的，想在呼市开个店，听说现在办营业执照特别快，到底要几天啊"
    answer = engine.ask(question)
    assert answer.outcome is Outcome.ANSWER and "0.5个工作日" in answer.text
    assert answer.question == question  # the record keeps what was asked, not the clauses answered
    assert "from its last clauses" in engine.explain(question).reason


@pytest.mark.parametrize(
    "question",
    [
        "我在包头，想开个公司，要几天",  # another city: not background
        "2019年的时候，开公司，要几天",  # another year: not background
        "我想在呼市开个幼儿园，听说手续很多，要几天",  # the clauses left do not make a known question
    ],
)
def test_a_clause_naming_another_place_or_year_is_never_dropped(engine: Engine, question: str) -> None:
    assert engine.ask(question).outcome is not Outcome.ANSWER


def test_a_message_of_many_clauses_costs_a_few_tries_at_most(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    whole = engine._ask_whole

    def counting(cleaned: str, analysis: object) -> object:
        calls.append(cleaned)
        return whole(cleaned, analysis)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "_ask_whole", counting)
    engine.ask("，".join(["今天天气不错"] * 500))
    assert len(calls) <= 4  # the whole message, then at most three tails
