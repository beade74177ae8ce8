"""Normalisation makes differently typed questions look the same."""

from __future__ import annotations

import pytest

from intents import Engine, Outcome
from intents.normalize import MAX_QUESTION_CHARS, clean_input, normalize


def test_full_width_and_case_are_folded() -> None:
    assert normalize("ＡＰＰ １２３４５") == "app 12345"


def test_traditional_becomes_simplified() -> None:
    assert normalize("企業開辦要幾天") == "企业开办要几天"


def test_punctuation_emoji_mentions_and_html_are_removed() -> None:
    assert normalize("@hohhot_bot 企业开办，要几天？？😀<b>呢</b>") == "企业开办 要几天 呢"


def test_decimal_points_survive_but_sentence_dots_do_not() -> None:
    assert normalize("满意率99.9%吗...") == "满意率99.9%吗"


def test_huge_input_is_cut() -> None:
    assert len(normalize("企业" * 100_000)) == MAX_QUESTION_CHARS


def test_control_characters_are_removed_from_stored_input() -> None:
    assert clean_input("企业\x00开办\x1b[31m\u200b要几天\n") == "企业 开办 [31m要几天"


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e", "\u00ad"])
def test_format_characters_inside_a_word_are_dropped_not_turned_into_spaces(invisible: str) -> None:
    assert normalize(f"企{invisible}业开办") == normalize("企业开办")
    assert clean_input(f"企{invisible}业开办") == "企业开办"


def test_a_question_with_a_zero_width_space_inside_a_word_is_answered(engine: Engine) -> None:
    answer = engine.ask("企\u200b业开办要几天")
    assert answer.outcome is Outcome.ANSWER and "0.5个工作日" in answer.figures


def test_a_character_that_simplifies_in_two_steps_is_simplified_fully() -> None:
    # Found by the property test: OpenCC maps 薴 to 苧 and 苧 to 苎; normalising must be idempotent.
    assert normalize("薴") == normalize(normalize("薴")) == "苎"
