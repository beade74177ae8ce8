"""Properties that hold for any input at all: no crash, a well-formed reply, figures always cited."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intents import Engine, Outcome
from intents.normalize import MAX_INPUT_CHARS, normalize

# Text from the scripts people actually type here, plus emoji, symbols, markup and control characters.
_ALPHABET = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),
    st.characters(categories=["Cc", "Cf", "Zs", "Po", "Sm"]),
)
_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(st.text(_ALPHABET, max_size=400))
def test_any_text_gets_a_well_formed_reply(engine: Engine, text: str) -> None:
    answer = engine.ask(text)
    assert answer.text.strip()
    match answer.outcome:
        case Outcome.EMPTY:
            assert "请输入" in answer.text and not answer.sources
        case Outcome.FALLBACK:
            assert "12345" in answer.text and answer.sources and not answer.suggestions
        case Outcome.SUGGEST:
            assert 1 <= len(answer.suggestions) <= 3 and "您是想问" in answer.text
            assert all(s.question in answer.text for s in answer.suggestions)
    assert 0.0 <= answer.score <= 100.0
    assert len(answer.question) <= MAX_INPUT_CHARS
    if answer.outcome is Outcome.ANSWER:
        assert answer.intent is not None and answer.sources
        assert all(figure in answer.text for figure in answer.figures)
    else:
        assert answer.intent is None


@_SETTINGS
@given(st.text(_ALPHABET, max_size=200))
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@_SETTINGS
@given(st.sampled_from(["企业开办要几天", "好差评满意率", "12345整合了多少条热线"]), st.text(_ALPHABET, max_size=3))
def test_trailing_noise_does_not_change_a_clear_answer(engine: Engine, question: str, noise: str) -> None:
    clean = engine.ask(question)
    noisy = engine.ask(question + "".join(ch for ch in noise if not ch.isalnum()))
    assert noisy.intent == clean.intent
