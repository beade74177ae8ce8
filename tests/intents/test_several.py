"""A message that asks two or more things gets each answer with its own source, in order."""

from __future__ import annotations

from intents import Engine, Outcome
from intents.engine import split_questions


def test_a_message_is_split_at_question_marks_full_stops_and_semicolons() -> None:
    assert split_questions("企业开办要几天？注销呢?还有；嗯。") == ["企业开办要几天", "注销呢", "还有"]
    assert split_questions("企业开办要几天") == ["企业开办要几天"]


def test_two_questions_get_both_answers_the_second_read_against_the_first(engine: Engine) -> None:
    answer = engine.ask("企业开办要几天？注销呢？")
    assert answer.outcome is Outcome.ANSWER and not answer.fallback
    assert [p.entry.id for p in answer.parts if p.entry] == [
        "business_registration_time",
        engine.ask("企业注销要多久").intent,
    ]
    first, second = answer.text.split("\n\n")
    assert first.startswith("1. ") and "0.5个工作日" in first and "来源：" in first
    assert second.startswith("2. ") and "来源：" in second
    assert "企业开办" not in second  # each answer keeps its own figures and source


def test_a_piece_the_reports_do_not_answer_is_named_and_the_message_is_not_an_answer(engine: Engine) -> None:
    answer = engine.ask("企业开办要几天？今天天气怎么样？")
    assert answer.outcome is Outcome.PARTIAL and answer.fallback
    assert "0.5个工作日" in answer.text and "“今天天气怎么样”：报道中没有找到" in answer.text
    assert "12345" in answer.figures


def test_punctuation_inside_one_question_or_a_greeting_does_not_split_the_answer(engine: Engine) -> None:
    whole = engine.ask("企业开办要几天")
    for message in ("你好！企业开办要几天？", "企业开办。要几天？"):
        answer = engine.ask(message)
        assert answer.intent == whole.intent and not answer.parts


def test_a_piece_the_engine_is_unsure_of_names_its_choices_instead_of_saying_nothing_was_found(
    engine: Engine,
) -> None:
    answer = engine.ask("企业开办要几天？注销呢？还有别的吗？")
    unsure = answer.parts[2]
    assert unsure.suggestions  # "还有别的吗" after an answer: the related entries are offered
    third = answer.text.split("\n\n")[2]
    assert third.startswith("3. ") and "报道中没有找到" not in third
    assert all(s.question in third for s in unsure.suggestions)
    assert answer.outcome is Outcome.PARTIAL  # a piece left to choose: not the whole message answered
