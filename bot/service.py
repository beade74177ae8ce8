"""The assistant façade: the one thing every adapter calls.

It asks the engine, records every interaction in the store before the reply goes out (with the escalation of a
question that fell back, in the same transaction), keeps each chat's choices so a bare number picks one, and
tells the observers (metrics). Adapters never reach the engine or the knowledge base themselves.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.curation import Proposal, propose
from bot.report import Report, build_report
from bot.store import (
    Conversation,
    Feedback,
    OutboxItem,
    QuestionRecord,
    ReviewDecision,
    ScoredIntent,
    Store,
    Vote,
    utcnow,
)
from intents import Answer, Context, Engine, Outcome
from intents.explain import Explanation
from intents.normalize import clean_input
from knowledge import Entry, KnowledgeBase, Topic
from knowledge.export import entry_to_dict

logger = logging.getLogger(__name__)

HOTLINE_QUESTION = "12345"
"""How a press of the hotline button or /hotline is recorded."""
LOCAL_CONVERSATIONS = 10_000
STANDS_ALONE = frozenset({Outcome.ANSWER, Outcome.SMALLTALK, Outcome.EMPTY})
"""Outcomes a question reaches on its own: the conversation's context is never consulted for them."""
MAX_REASON_CHARS = 200
FEEDBACK_REASONS = ("不准确", "已过时", "没回答我的问题", "其他")
"""What a 👎 offers to say why (Telegram's buttons; the API takes any short text)."""
HOTLINE_LEAD = "建议拨打"
"""Where the 12345 advice starts in the fallback reply: /hotline shows it without the apology."""


@dataclass(frozen=True, slots=True)
class AskEvent:
    """One answered question, as observers see it: no raw user id, only a salted hash."""

    answer: Answer
    channel: str
    """Where the question came from: cli, console, api, web, telegram, wechat, wecom."""
    user_hash: str | None
    seconds: float
    asked_at: float
    """Unix time when the question arrived."""
    via: str = "ask"


Observer = Callable[[AskEvent], None]


@dataclass(frozen=True, slots=True)
class Asker:
    """Who asks, through which door. The ids are hashed with the salt before anything keeps them."""

    channel: str
    chat_type: str | None = None
    chat_id: str | int | None = None
    user_id: str | int | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """The engine's answer with the id of its record (the id feedback refers to)."""

    answer: Answer
    id: str
    recorded: bool
    kb_version: str
    """The knowledge base that answered."""
    """False when the store could not keep it: the answer still goes out."""
    via: str = "ask"
    duplicate: bool = False
    """True when it repeats a message recorded before (a channel's retry): not recorded or counted again."""

    @property
    def outcome(self) -> Outcome:
        """Return the kind of reply."""
        return self.answer.outcome

    @property
    def text(self) -> str:
        """Return the plain-text reply."""
        return self.answer.text

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape of `ask --json` and `POST /v1/ask`: the answer with `id` and `outcome`."""
        return {
            "id": self.id,
            "outcome": self.answer.outcome.value,
            **self.answer.to_dict(),
            "kb_version": self.kb_version,
        }


def hash_user(user_id: str | int | None, salt: str = "") -> str | None:
    """Return a stable pseudonym for a user id, so logs, webhooks and the store never carry the raw id."""
    if user_id is None or user_id == "":
        return None
    return hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest()[:16]


def kb_version(engine: Engine) -> str:
    """Return a short fingerprint of the knowledge base's content, recorded with every question."""
    digest = hashlib.sha256()
    for entry in sorted(engine.kb.entries.values(), key=lambda e: e.id):
        digest.update(json.dumps(entry_to_dict(entry), ensure_ascii=False, sort_keys=True).encode())
    return digest.hexdigest()[:12]


def escalation_body(record: QuestionRecord, kind: str, escalation_id: str) -> str:
    """Return the exact JSON body posted to the escalation webhook for a record."""
    when = record.asked_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    body = {
        "id": escalation_id,
        "type": kind,
        "question": record.question,
        "channel": record.channel,
        "time": when,
        "user_hash": record.user_hash,
        "record_id": record.id,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


class StoreHealth:
    """Whether the last write to the store worked, for /healthz and the metrics."""

    def __init__(self) -> None:
        self.on_failure: Callable[[], None] | None = None
        """Called on every failed write (the metrics count them)."""
        self.failures = 0
        self.last_error: str | None = None
        self.failing_since: datetime | None = None

    def failed(self, exc: BaseException) -> None:
        """Note a failed write."""
        self.failures += 1
        self.last_error = f"{type(exc).__name__}"
        if self.on_failure is not None:
            self.on_failure()
        if self.failing_since is None:
            self.failing_since = utcnow()

    def ok(self) -> None:
        """Note a write that worked."""
        self.failing_since = None
        self.last_error = None


class Assistant:
    """Every channel answers, records and is observed the same way through this one object."""

    def __init__(
        self,
        engine: Engine,
        *,
        store: Store | None = None,
        salt: str = "",
        context_ttl_seconds: int = 600,
        escalate: bool = False,
        escalate_suggestions: bool = False,
        on_escalation: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        self.store = store
        self._salt = salt
        self._context_ttl = context_ttl_seconds
        self._escalate = escalate
        self._escalate_kinds = {Outcome.FALLBACK} | ({Outcome.SUGGEST} if escalate_suggestions else set())
        self._on_escalation = on_escalation
        self._observers: list[Observer] = []
        self.kb_version = kb_version(engine)
        self.loaded_at = utcnow()
        """When the knowledge base now answering was loaded."""
        self.on_swap: Callable[[str, int], None] | None = None
        """Called with the new version and entry count after a reload (the metrics show it)."""
        self._local: OrderedDict[str, Conversation] = OrderedDict()
        """Conversation state when there is no store (bounded): a bare number still picks a choice."""
        self.store_health = StoreHealth()

    def swap(self, engine: Engine) -> None:
        """Answer from a new engine from now on; questions in flight finish on the one they started with."""
        version = kb_version(engine)
        self._engine, self.kb_version = engine, version
        self.loaded_at = utcnow()
        if self.on_swap is not None:
            self.on_swap(version, len(engine.kb.entries))

    # -- reading the knowledge base (browsing, never answering) ---------------------------------------

    @property
    def catalog(self) -> KnowledgeBase:
        """Return the knowledge base for browsing (topic lists, entry pages); answers go through ask/pick."""
        return self._engine.kb

    def topics(self) -> tuple[Topic, ...]:
        """Return every topic, in the knowledge base's order."""
        return tuple(self._engine.kb.topics)

    def topic(self, topic_id: str) -> Topic | None:
        """Return one topic, or None."""
        return next((t for t in self._engine.kb.topics if t.id == topic_id), None)

    def entry(self, entry_id: str) -> Entry | None:
        """Return one entry, or None."""
        return self._engine.kb.entries.get(entry_id)

    def topic_entries(self, topic_id: str) -> tuple[Entry, ...]:
        """Return a topic's entries, in order."""
        return tuple(self._engine.kb.topic_entries(topic_id))

    @property
    def entry_count(self) -> int:
        """Return how many entries the knowledge base holds."""
        return len(self._engine.kb.entries)

    def knowledge_base_status(self) -> dict[str, Any]:
        """Return the knowledge base now serving, as /healthz and the admin console show it: its topics, entries,
        version and when it was loaded (UTC)."""
        return {
            "topics": len(self.topics()),
            "entries": self.entry_count,
            "version": self.kb_version,
            "loaded_at": self.loaded_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        }

    def hotline_answer(self) -> Answer:
        """Return the 12345 guidance (not recorded): the fallback's advice without its apology, same facts."""
        fallback = self._engine.kb.fallback
        start = fallback.reply.find(HOTLINE_LEAD)
        guidance = fallback.reply[start:] if start >= 0 else fallback.reply
        return Answer(
            question=HOTLINE_QUESTION, outcome=Outcome.FALLBACK, reply=guidance, score=0.0, facts=fallback.facts
        )

    def entry_answer(self, entry_id: str) -> Answer:
        """Return an entry's cited answer without recording it (a preview); KeyError when unknown."""
        return self._engine.answer_entry(entry_id)

    def health_probe(self) -> tuple[str, str] | None:
        """Return a known question and a figure its answer must cite: the first entry with a figure."""
        for entry in self._engine.kb.entries.values():
            if entry.facts and entry.questions:
                return entry.questions[0], entry.facts[0].figure
        return None

    def probe(self, question: str) -> Answer:
        """Answer without recording or observing (health checks and diagnostics)."""
        return self._engine.ask(question)

    def trial(self, question: str) -> tuple[Answer, Explanation]:
        """Answer as a user would be answered, with why, neither recorded nor observed (the admin's test view)."""
        engine = self._engine  # one engine for both, even when a reload swaps it meanwhile
        return engine.ask(question), engine.explain(question)

    # -- observers -----------------------------------------------------------------------------------

    def subscribe(self, observer: Observer) -> None:
        """Call observer with every AskEvent; an observer that raises is logged, never breaks a reply."""
        self._observers.append(observer)

    def _notify(self, event: AskEvent) -> None:
        for observer in self._observers:
            try:
                observer(event)
            except Exception:
                logger.exception("observer %r failed", observer)

    # -- the doors -----------------------------------------------------------------------------------

    def _conversation_key(self, asker: Asker) -> str | None:
        if asker.chat_id is None or asker.chat_id == "":
            return None
        return hashlib.sha256(f"{self._salt}:chat:{asker.channel}:{asker.chat_id}".encode()).hexdigest()[:32]

    def message_key(self, asker: Asker, message_id: str) -> str:
        """Return the salted key under which a channel's message id is recorded once."""
        return hashlib.sha256(f"{self._salt}:msg:{asker.channel}:{message_id}".encode()).hexdigest()[:32]

    async def ask(self, question: str, asker: Asker, *, message_id: str | None = None) -> Reply:
        """Answer a question; a bare number answers that choice of the chat's last reply, when it offered one."""
        started = time.perf_counter()
        asked_at = time.time()
        key = self._conversation_key(asker)
        engine = self._engine  # a reload swaps it: this question finishes on the one it started with
        choice = await self._choice(question, key, engine)
        if choice is not None:
            answer, via = engine.answer_entry(choice), "pick"
        else:
            answer, via = engine.ask(question), "ask"
            if key is not None and answer.outcome not in STANDS_ALONE and engine.may_follow_up(question):
                context = await self._context(key)  # read only for a follow-up-shaped question left unanswered
                if context is not None:
                    answer = engine.ask(question, context)
        return await self._finish(answer, asker, via, started, asked_at, key, message_id)

    async def _context(self, key: str) -> Context | None:
        """Return what the chat last answered and offered, within the context's time to live, or None."""
        state = await self._state(key)
        if state is None or (state.last_intent is None and not state.choices):
            return None
        return Context(last_intent=state.last_intent, suggestions=state.choices)

    async def _state(self, key: str) -> Conversation | None:
        """Return the chat's state when it is younger than the context's time to live (store or memory)."""
        if self.store is None:
            state = self._local.get(key)
            if state is not None and (utcnow() - state.updated_at).total_seconds() > self._context_ttl:
                return None
            return state
        try:
            return await self.store.conversation(key, ttl_seconds=self._context_ttl)
        except Exception as exc:
            self._store_failed(exc)
            return None

    async def pick(self, entry_id: str, asker: Asker, *, via: str = "pick") -> Reply:
        """Answer one entry chosen from suggestions, related questions, a topic or a deep link; KeyError if
        the entry does not exist."""
        started, asked_at = time.perf_counter(), time.time()
        answer = self._engine.answer_entry(entry_id)
        return await self._finish(answer, asker, via, started, asked_at, self._conversation_key(asker), None)

    async def hotline(self, asker: Asker) -> Reply:
        """Give the 12345 guidance (the /hotline command, the "都不是 · 打12345" button), recorded."""
        started, asked_at = time.perf_counter(), time.time()
        answer = self.hotline_answer()
        return await self._finish(answer, asker, "hotline", started, asked_at, None, None, escalate=False)

    async def preview(self, query: str, asker: Asker, *, limit: int) -> tuple[Reply, tuple[Answer, ...]]:
        """Answer an inline query: its reply (recorded) and the answers to offer (best first)."""
        started, asked_at = time.perf_counter(), time.time()
        answer = self._engine.ask(query)
        reply = await self._finish(answer, asker, "inline", started, asked_at, None, None, escalate=False)
        kb = self._engine.kb
        offered: list[Answer]
        if answer.outcome is Outcome.ANSWER and answer.entry is not None:
            related = [self._engine.answer_entry(i) for i in answer.entry.related if i in kb.entries]
            offered = [answer, *related]
        elif answer.suggestions:
            offered = [self._engine.answer_entry(s.intent) for s in answer.suggestions]
        else:
            offered = []
        return reply, tuple(offered[:limit])

    async def _choice(self, question: str, key: str | None, engine: Engine) -> str | None:
        if key is None or len(question) > 16 or not any(c.isdigit() for c in question):
            return None  # the common case costs nothing: only a short text with a digit can be a choice
        text = clean_input(question).strip()
        if not text.isdigit() or len(text) > 2:
            return None
        state = await self._state(key)
        if state is not None and self.store is not None:
            try:  # the choices stand only while the reply that offered them is the chat's last one
                if await self.store.latest_in_conversation(key) != state.record_id:
                    state = None
            except Exception as exc:
                self._store_failed(exc)
                return None
        if state is None or not state.choices or not 1 <= int(text) <= len(state.choices):
            return None
        chosen = state.choices[int(text) - 1]
        return chosen if chosen in engine.kb.entries else None

    def _store_failed(self, exc: BaseException) -> None:
        self.store_health.failed(exc)
        logger.error("store: write failed (%s: %s); answering without recording", type(exc).__name__, exc)

    async def _finish(
        self,
        answer: Answer,
        asker: Asker,
        via: str,
        started: float,
        asked_at: float,
        conversation_key: str | None,
        message_id: str | None,
        *,
        escalate: bool = True,
    ) -> Reply:
        record_id = uuid.uuid4().hex
        user_hash = hash_user(asker.user_id, self._salt)
        record = QuestionRecord(
            id=record_id,
            asked_at=utcnow(),
            channel=asker.channel,
            chat_type=asker.chat_type,
            conversation=conversation_key,
            user_hash=user_hash,
            question=answer.question,
            outcome=answer.outcome.value,
            intent=answer.entry.id if answer.entry is not None else None,
            score=round(answer.score, 2),
            candidates=tuple(ScoredIntent(c.intent, round(c.score, 2)) for c in answer.candidates),
            kb_version=self.kb_version,
            reply_ms=round((time.perf_counter() - started) * 1000, 3),
            via=via,
            message_key=self.message_key(asker, message_id) if message_id is not None else None,
        )
        recorded = duplicate = escalated = False
        context = answer.context
        if self.store is None and conversation_key is not None:
            previous = self._local.get(conversation_key)
            last = context.last_intent or (previous.last_intent if previous is not None else None)
            self._local[conversation_key] = Conversation(
                conversation_key, last, context.suggestions, record.asked_at, record_id
            )
            self._local.move_to_end(conversation_key)
            while len(self._local) > LOCAL_CONVERSATIONS:
                self._local.popitem(last=False)
        if self.store is not None:
            item = None
            if escalate and self._escalate and answer.outcome in self._escalate_kinds:
                item_id = uuid.uuid4().hex
                item = OutboxItem(
                    id=item_id,
                    question_id=record_id,
                    kind=answer.outcome.value,
                    payload=escalation_body(record, answer.outcome.value, item_id),
                    created_at=record.asked_at,
                )
            conversation = None
            if conversation_key is not None and (context.last_intent or context.suggestions):
                # What a follow-up or a bare number will be read against: the entry answered, the choices
                # offered. A reply with nothing to remember (a fallback) leaves the last entry in place; its
                # choices lapse anyway, since the record that offered them is no longer the chat's last.
                conversation = Conversation(
                    conversation_key, context.last_intent, context.suggestions, record.asked_at, record_id
                )
            try:
                recorded = await self.store.record_question(record, outbox_item=item, conversation=conversation)
            except Exception as exc:
                self._store_failed(exc)
            else:
                self.store_health.ok()
                duplicate = not recorded
                escalated = recorded and item is not None
        if escalated and self._on_escalation is not None:
            self._on_escalation()
        if not duplicate:
            self._notify(
                AskEvent(
                    answer=answer,
                    channel=asker.channel,
                    user_hash=user_hash,
                    seconds=time.perf_counter() - started,
                    asked_at=asked_at,
                    via=via,
                )
            )
        return Reply(
            answer=answer, id=record_id, recorded=recorded, kb_version=record.kb_version, via=via, duplicate=duplicate
        )

    async def feedback(self, record_id: str, vote: Vote, voter: Asker, *, reason: str | None = None) -> Feedback | None:
        """Record a vote on a reply; the same voter voting again replaces the vote. None when the record is
        unknown (or there is no store)."""
        if self.store is None or await self.store.question(record_id) is None:
            return None
        who = hash_user(voter.user_id if voter.user_id is not None else voter.chat_id, self._salt) or "anonymous"
        cleaned = clean_input(reason or "").strip()[:MAX_REASON_CHARS] or None
        given = Feedback(record_id, who, vote, cleaned, voter.channel, utcnow())
        await self.store.put_feedback(given)
        return given

    async def report(self, days: int) -> Report:
        """Return the curators' report of the last days (empty when there is no store)."""
        since = utcnow() - timedelta(days=days)
        records = await self.store.questions_since(since) if self.store is not None else []
        votes = await self.store.feedback_since(since) if self.store is not None else []
        kb = self._engine.kb
        return build_report(records, votes, list(kb.entries), self._engine.analyzer, since)

    async def proposals(self, days: int) -> list[Proposal]:
        """Return suggested paraphrases and missing entries from the records of the last days."""
        if self.store is None:
            return []
        records = await self.store.questions_since(utcnow() - timedelta(days=days))
        return propose(records, self._engine.analyzer, set(self._engine.kb.entries))

    async def review_decisions(self) -> list[ReviewDecision]:
        """Return the curators' remembered decisions on review items (none without a store)."""
        return [] if self.store is None else await self.store.review_decisions()

    async def decide(self, decision: ReviewDecision) -> bool:
        """Remember a decision on a review item; False when there is no store to keep it."""
        if self.store is None:
            return False
        await self.store.put_review_decision(decision)
        return True

    async def record(self, record_id: str) -> QuestionRecord | None:
        """Return one record by id (None when unknown or there is no store)."""
        return None if self.store is None else await self.store.question(record_id)

    def entry_dict(self, entry_id: str) -> dict[str, Any] | None:
        """Return one entry as JSON, or None."""
        entry = self.entry(entry_id)
        return None if entry is None else entry_to_dict(entry)
