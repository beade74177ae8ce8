"""Store records for tests that need rows without asking the engine."""

from __future__ import annotations

from bot.store import QuestionRecord, utcnow


def fallback_record(record_id: str) -> QuestionRecord:
    """Return the record of an API question that fell back, with the given id."""
    return QuestionRecord(
        id=record_id,
        asked_at=utcnow(),
        channel="api",
        chat_type=None,
        conversation=None,
        user_hash=None,
        question="问题",
        outcome="fallback",
        intent=None,
        score=0.0,
        candidates=(),
        kb_version="test",
        reply_ms=0.1,
        via="ask",
    )
