"""Inline keyboards and callback data."""

from __future__ import annotations

import pytest

from bot.telegram import keyboards as kbd
from bot.telegram.keyboards import AnswerIntent, Hotline, TopicList, TopicQuestions
from intents import Engine
from knowledge import KnowledgeBase


@pytest.mark.parametrize(
    "action",
    [
        AnswerIntent("business_registration_time"),
        AnswerIntent("x", browsing=True),
        Hotline(),
        TopicList(3),
        TopicQuestions("hotline", 2),
    ],
)
def test_callback_data_round_trips(action: kbd.Action) -> None:
    assert kbd.decode(kbd.encode(action)) == action


@pytest.mark.parametrize("data", [None, "", "zz", "a:", "tl:x", "tq::1", "tq:topic:y", "h:extra", "b"])
def test_foreign_or_malformed_callback_data_is_not_an_action(data: str | None) -> None:
    assert kbd.decode(data) is None


def test_callback_data_over_64_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="64"):
        kbd.encode(AnswerIntent("长" * 30))


def test_every_entry_and_topic_fits_in_callback_data(kb: KnowledgeBase) -> None:
    for entry in kb.entries.values():
        assert len(kbd.encode(AnswerIntent(entry.id, browsing=True)).encode()) <= 64
    for topic in kb.topics:
        assert len(kbd.encode(TopicQuestions(topic.id, 99)).encode()) <= 64


def _rows(markup: object) -> list[list[tuple[str, str]]]:
    return [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard]  # type: ignore[attr-defined]


def test_topic_pages_cover_every_topic_once(kb: KnowledgeBase) -> None:
    titles = []
    for page in range(kbd.topic_pages(kb)):
        titles += [t for row in _rows(kbd.topics_keyboard(kb, page)) for t, d in row if d.startswith("tq:")]
    assert titles == [t.title for t in kb.topics]


def test_question_pages_cover_every_entry_once_and_lead_back(kb: KnowledgeBase) -> None:
    for topic in kb.topics:
        seen = []
        for page in range(kbd.question_pages(kb, topic.id)):
            rows = _rows(kbd.topic_keyboard(kb, topic.id, page))
            seen += [d[2:] for row in rows for _, d in row if d.startswith("b:")]
            assert rows[-1][0][0] == "« 全部主题"
        assert tuple(seen) == topic.entry_ids


def test_answer_keyboard_offers_related_questions_then_12345(engine: Engine, kb: KnowledgeBase) -> None:
    for entry in kb.entries.values():
        rows = _rows(kbd.answer_keyboard(engine.answer_entry(entry.id), kb))
        related = [d[2:] for row in rows for _, d in row if d.startswith("a:")]
        assert related == [i for i in entry.related if i in kb.entries][:3]
        assert rows[-1] == [("都不是 · 打12345", "h")]


def test_browsed_answer_leads_back_to_its_topic_page(engine: Engine, kb: KnowledgeBase) -> None:
    topic = max(kb.topics, key=lambda t: len(t.entry_ids))
    last = topic.entry_ids[-1]
    rows = _rows(kbd.answer_keyboard(engine.answer_entry(last), kb, browsing=True))
    page = (len(topic.entry_ids) - 1) // kbd.QUESTIONS_PER_PAGE
    assert rows[-1] == [("« 返回", f"tq:{topic.id}:{page}")]


def test_unknown_topic_is_a_key_error(kb: KnowledgeBase) -> None:
    with pytest.raises(KeyError):
        kbd.topic_keyboard(kb, "no_such_topic", 0)


def test_featured_entries_are_distinct_first_questions(kb: KnowledgeBase) -> None:
    featured = kbd.featured_entries(kb, 5)
    assert len(featured) == 5 and len({e.id for e in featured}) == 5
