"""Inline keyboards and their callback data: self-contained, so any replica can answer any button."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram import render
from intents import Answer, Outcome
from knowledge import Entry, KnowledgeBase

MAX_CALLBACK_BYTES = 64
"""Telegram's limit on callback_data."""
MAX_RELATED = 3
TOPICS_PER_PAGE = 8
QUESTIONS_PER_PAGE = 6
FEATURED_TOPICS = ("business_registration", "hotline", "online_services", "one_window", "msb")
"""Topics whose first question is shown as an example (/start) and offered on an empty inline query."""


@dataclass(frozen=True, slots=True)
class AnswerIntent:
    """Answer one entry in place; from the topic browser the answer gets a button back to its topic."""

    intent: str
    browsing: bool = False


@dataclass(frozen=True, slots=True)
class Hotline:
    """Show the 12345 guidance."""


@dataclass(frozen=True, slots=True)
class TopicList:
    """Show one page of the topic areas."""

    page: int = 0


@dataclass(frozen=True, slots=True)
class TopicQuestions:
    """Show one page of a topic's questions."""

    topic_id: str
    page: int = 0


@dataclass(frozen=True, slots=True)
class VoteOn:
    """👍 or 👎 on the reply with this record id (32 hex characters: fits in callback_data)."""

    record_id: str
    up: bool


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a 👎: the index of one of the offered reasons."""

    record_id: str
    index: int


Action = AnswerIntent | Hotline | TopicList | TopicQuestions | VoteOn | Reason


def encode(action: Action) -> str:
    """Return the callback_data for an action; ValueError if it would exceed Telegram's 64 bytes."""
    match action:
        case AnswerIntent(intent, browsing):
            data = f"{'b' if browsing else 'a'}:{intent}"
        case Hotline():
            data = "h"
        case TopicList(page):
            data = f"tl:{page}"
        case TopicQuestions(topic_id, page):
            data = f"tq:{topic_id}:{page}"
        case VoteOn(record_id, up):
            data = f"{'v+' if up else 'v-'}:{record_id}"
        case Reason(record_id, index):
            data = f"vr:{record_id}:{index}"
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def decode(data: str | None) -> Action | None:
    """Return the action a callback_data names, or None when it is not ours or malformed."""
    if not data:
        return None
    kind, _, rest = data.partition(":")
    try:
        if kind in ("a", "b") and rest:
            return AnswerIntent(rest, browsing=kind == "b")
        if kind == "h" and not rest:
            return Hotline()
        if kind == "tl":
            return TopicList(max(0, int(rest)))
        if kind in ("v+", "v-") and rest.isalnum():
            return VoteOn(rest, up=kind == "v+")
        if kind == "vr":
            record_id, _, index = rest.partition(":")
            return Reason(record_id, int(index)) if record_id.isalnum() and int(index) >= 0 else None
        if kind == "tq":
            topic_id, _, page = rest.rpartition(":")
            return TopicQuestions(topic_id, max(0, int(page))) if topic_id else None
    except ValueError:
        return None
    return None


def _button(text: str, action: Action) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=encode(action))


def _title(entry: Entry) -> str:
    return entry.questions[0]


def _pages(count: int, per_page: int) -> int:
    return max(1, math.ceil(count / per_page))


def _nav_row(page: int, pages: int, target: Callable[[int], Action]) -> list[InlineKeyboardButton]:
    row = []
    if page > 0:
        row.append(_button(render.PREVIOUS_PAGE, target(page - 1)))
    if page < pages - 1:
        row.append(_button(render.NEXT_PAGE, target(page + 1)))
    return row


def vote_row(record_id: str) -> list[InlineKeyboardButton]:
    """Return the 👍 / 👎 buttons of an answer."""
    return [_button(render.VOTE_UP, VoteOn(record_id, True)), _button(render.VOTE_DOWN, VoteOn(record_id, False))]


def reasons_keyboard(record_id: str, reasons: tuple[str, ...]) -> InlineKeyboardMarkup:
    """Return the buttons a 👎 turns into: why the answer did not help."""
    buttons = [_button(text, Reason(record_id, i)) for i, text in enumerate(reasons)]
    return InlineKeyboardMarkup([buttons[:2], buttons[2:]])


def answer_keyboard(
    answer: Answer, kb: KnowledgeBase, *, browsing: bool = False, record_id: str | None = None
) -> InlineKeyboardMarkup:
    """Return the buttons under a reply: 👍/👎 for an answer with a record, related questions or suggestions,
    then the 12345 way out."""
    rows: list[list[InlineKeyboardButton]] = []
    if record_id is not None and answer.outcome is Outcome.ANSWER:
        rows.append(vote_row(record_id))
    if answer.outcome is Outcome.SUGGEST:
        for s in answer.suggestions[:MAX_RELATED]:
            rows.append([_button(s.question, AnswerIntent(s.intent, browsing))])
        rows.append([_button(render.HOTLINE_BUTTON, Hotline())])
    elif answer.outcome is Outcome.ANSWER and answer.entry is not None:
        related = [kb.entries[i] for i in answer.entry.related if i in kb.entries][:MAX_RELATED]
        for entry in related:
            rows.append([_button(_title(entry), AnswerIntent(entry.id, browsing))])
        rows.append([_button(render.HOTLINE_BUTTON, Hotline())])
        if browsing:
            rows.append([_button(render.BACK_BUTTON, _back_to_topic(answer.entry, kb))])
    else:
        rows.append([_button(render.TOPICS_BUTTON, TopicList(0))])
    return InlineKeyboardMarkup(rows)


def _back_to_topic(entry: Entry, kb: KnowledgeBase) -> TopicQuestions:
    ids = next((t.entry_ids for t in kb.topics if t.id == entry.topic_id), ())
    index = ids.index(entry.id) if entry.id in ids else 0
    return TopicQuestions(entry.topic_id, index // QUESTIONS_PER_PAGE)


def hotline_keyboard() -> InlineKeyboardMarkup:
    """Return the button under the 12345 guidance."""
    return InlineKeyboardMarkup([[_button(render.TOPICS_BUTTON, TopicList(0))]])


def featured_entries(kb: KnowledgeBase, limit: int) -> list[Entry]:
    """Return example entries: the first of each featured topic, then of the other topics, in order."""
    by_id = {t.id: t for t in kb.topics}
    ordered = [by_id[i] for i in FEATURED_TOPICS if i in by_id]
    ordered += [t for t in kb.topics if t.id not in FEATURED_TOPICS]
    return [kb.entries[t.entry_ids[0]] for t in ordered if t.entry_ids][:limit]


def start_keyboard(kb: KnowledgeBase, examples: int = 4) -> InlineKeyboardMarkup:
    """Return example questions as buttons, then the topic browser."""
    rows = [[_button(_title(e), AnswerIntent(e.id))] for e in featured_entries(kb, examples)]
    rows.append([_button(render.TOPICS_BUTTON, TopicList(0))])
    return InlineKeyboardMarkup(rows)


def topic_pages(kb: KnowledgeBase) -> int:
    """Return how many pages the topic list has."""
    return _pages(len(kb.topics), TOPICS_PER_PAGE)


def topics_keyboard(kb: KnowledgeBase, page: int) -> InlineKeyboardMarkup:
    """Return one page of topic areas, with paging buttons."""
    pages = topic_pages(kb)
    page = min(page, pages - 1)
    chunk = kb.topics[page * TOPICS_PER_PAGE : (page + 1) * TOPICS_PER_PAGE]
    rows = [[_button(t.title, TopicQuestions(t.id, 0))] for t in chunk]
    nav = _nav_row(page, pages, TopicList)
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


def question_pages(kb: KnowledgeBase, topic_id: str) -> int:
    """Return how many pages a topic's question list has; KeyError if the topic is unknown."""
    return _pages(len(kb.topic_entries(topic_id)), QUESTIONS_PER_PAGE)


def topic_keyboard(kb: KnowledgeBase, topic_id: str, page: int) -> InlineKeyboardMarkup:
    """Return one page of a topic's questions, with paging and a way back; KeyError if the topic is unknown."""
    entries = kb.topic_entries(topic_id)
    pages = _pages(len(entries), QUESTIONS_PER_PAGE)
    page = min(page, pages - 1)
    chunk = entries[page * QUESTIONS_PER_PAGE : (page + 1) * QUESTIONS_PER_PAGE]
    rows = [[_button(_title(e), AnswerIntent(e.id, browsing=True))] for e in chunk]
    nav = _nav_row(page, pages, lambda p: TopicQuestions(topic_id, p))
    if nav:
        rows.append(nav)
    topic_list_page = [t.id for t in kb.topics].index(topic_id) // TOPICS_PER_PAGE
    rows.append([_button(render.ALL_TOPICS_BUTTON, TopicList(topic_list_page))])
    return InlineKeyboardMarkup(rows)
