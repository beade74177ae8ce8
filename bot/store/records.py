"""What the store holds, one frozen dataclass per kind of row."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


def _aware(value: Any) -> datetime:
    """SQLite hands datetimes back naive: they were written in UTC."""
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _maybe_aware(value: Any) -> datetime | None:
    return None if value is None else _aware(value)


@dataclass(frozen=True, slots=True)
class ScoredIntent:
    """One of the best-ranked intents behind a decision."""

    intent: str
    score: float


@dataclass(frozen=True, slots=True)
class QuestionRecord:
    """One interaction: a question, a picked suggestion, a hotline press or an inline preview.

    Never the raw user or chat id: `user_hash` and `conversation` are salted hashes.
    """

    id: str
    asked_at: datetime
    channel: str
    """cli, console, api, web, telegram, wechat, wecom."""
    chat_type: str | None
    conversation: str | None
    user_hash: str | None
    question: str
    """The question as the engine read it (cleaned of markup and control characters)."""
    outcome: str
    intent: str | None
    score: float
    candidates: tuple[ScoredIntent, ...]
    kb_version: str
    reply_ms: float
    via: str
    """ask, pick, related, hotline, inline, start."""
    message_key: str | None = None
    """A salted hash of the channel's message id, for channels that retry (WeChat): recorded once."""

    def to_row(self) -> dict[str, Any]:
        """Return the row to insert."""
        return {
            "id": self.id,
            "asked_at": self.asked_at,
            "channel": self.channel,
            "chat_type": self.chat_type,
            "conversation": self.conversation,
            "user_hash": self.user_hash,
            "question": self.question,
            "outcome": self.outcome,
            "intent": self.intent,
            "score": self.score,
            "candidates": [{"intent": c.intent, "score": c.score} for c in self.candidates],
            "kb_version": self.kb_version,
            "reply_ms": self.reply_ms,
            "via": self.via,
            "message_key": self.message_key,
        }

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> QuestionRecord:
        """Return the record of a stored row."""
        return cls(
            id=row["id"],
            asked_at=_aware(row["asked_at"]),
            channel=row["channel"],
            chat_type=row["chat_type"],
            conversation=row["conversation"],
            user_hash=row["user_hash"],
            question=row["question"],
            outcome=row["outcome"],
            intent=row["intent"],
            score=float(row["score"]),
            candidates=tuple(ScoredIntent(str(c["intent"]), float(c["score"])) for c in row["candidates"]),
            kb_version=row["kb_version"],
            reply_ms=float(row["reply_ms"]),
            via=row["via"],
            message_key=row["message_key"],
        )


class OutboxStatus(StrEnum):
    """Where an escalation stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"
    """Every attempt failed, or the receiver refused it for good: `db outbox --retry-dead` requeues."""


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One escalation to deliver: its id is the Idempotency-Key, its payload the exact body posted."""

    id: str
    question_id: str | None
    kind: str
    """fallback or suggest."""
    payload: str
    created_at: datetime
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None

    def to_row(self) -> dict[str, Any]:
        """Return the row to insert."""
        return {
            "id": self.id,
            "question_id": self.question_id,
            "kind": self.kind,
            "payload": self.payload,
            "created_at": self.created_at,
            "status": self.status.value,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at or self.created_at,
            "last_error": self.last_error,
        }

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> OutboxItem:
        """Return the item of a stored row."""
        return cls(
            id=row["id"],
            question_id=row["question_id"],
            kind=row["kind"],
            payload=row["payload"],
            created_at=_aware(row["created_at"]),
            status=OutboxStatus(row["status"]),
            attempts=int(row["attempts"]),
            next_attempt_at=_maybe_aware(row["next_attempt_at"]),
            last_error=row["last_error"],
        )


@dataclass(frozen=True, slots=True)
class Conversation:
    """A chat's state: the entry it last answered and the choices its last reply offered, by entry id."""

    key: str
    last_intent: str | None
    choices: tuple[str, ...]
    updated_at: datetime
    record_id: str | None = None
    """The record of the reply that offered the choices: they stand while it is the chat's last."""

    def to_row(self) -> dict[str, Any]:
        """Return the row to upsert."""
        return {
            "key": self.key,
            "state": {"last_intent": self.last_intent, "choices": list(self.choices), "record_id": self.record_id},
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Conversation:
        """Return the state of a stored row (unknown keys ignored, so old rows still load)."""
        state = row["state"] if isinstance(row["state"], dict) else {}
        choices = state.get("choices") or ()
        return cls(
            key=row["key"],
            last_intent=state.get("last_intent"),
            choices=tuple(str(c) for c in choices),
            updated_at=_aware(row["updated_at"]),
            record_id=state.get("record_id"),
        )


@dataclass(frozen=True, slots=True)
class StoredUpdate:
    """A Telegram update taken from the inbox to answer."""

    update_id: int
    payload: str


class Vote(StrEnum):
    """A user's verdict on a reply."""

    UP = "up"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class Feedback:
    """One voter's vote on one record (the latest: a second vote replaces the first)."""

    question_id: str
    voter: str
    """A salted hash of who voted."""
    vote: Vote
    reason: str | None
    channel: str
    updated_at: datetime

    def to_row(self) -> dict[str, Any]:
        """Return the row to upsert."""
        return {
            "question_id": self.question_id,
            "voter": self.voter,
            "vote": self.vote.value,
            "reason": self.reason,
            "channel": self.channel,
            "updated_at": self.updated_at,
        }


def review_key(kind: str, entry: str | None, question: str) -> str:
    """Return the key of a review item: what a decision on it is remembered by (kind, entry, question)."""
    return hashlib.sha256(f"{kind}\0{entry or ''}\0{question}".encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class ReviewDecision:
    """A curator's decision on one item of the admin console's review queue, remembered across replicas."""

    kind: str
    """proposal (an add_question proposal of `kb suggest`) or group (a group of unanswered questions)."""
    entry: str | None
    """The proposal's entry (None for a group)."""
    question: str
    """The proposal's question, or the group's representative question."""
    decision: str
    """accepted or dismissed."""
    decided_at: datetime

    @property
    def key(self) -> str:
        """Return the item's key."""
        return review_key(self.kind, self.entry, self.question)

    def to_row(self) -> dict[str, Any]:
        """Return the row to upsert."""
        return {
            "key": self.key,
            "kind": self.kind,
            "entry": self.entry,
            "question": self.question,
            "decision": self.decision,
            "decided_at": self.decided_at,
        }

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> ReviewDecision:
        """Build a decision from its row."""
        return cls(row["kind"], row["entry"], row["question"], row["decision"], _aware(row["decided_at"]))
