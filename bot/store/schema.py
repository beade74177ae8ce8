"""The store's tables, in SQLAlchemy Core: one schema for SQLite and PostgreSQL (migrations create it)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

SCHEMA_REVISION = "0004"
"""The newest migration's revision: a database at it needs no migration run (kept equal by a test)."""

questions = Table(
    "questions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("asked_at", DateTime(timezone=True), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("chat_type", String(16)),
    Column("conversation", String(64)),
    Column("user_hash", String(64)),
    Column("question", Text, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("intent", String(128)),
    Column("score", Float, nullable=False),
    Column("candidates", JSON, nullable=False),
    Column("kb_version", String(64), nullable=False),
    Column("reply_ms", Float, nullable=False),
    Column("via", String(16), nullable=False),
    Column("message_key", String(64), unique=True),
    Index("ix_questions_asked_at", "asked_at"),
    Index("ix_questions_outcome", "outcome"),
    Index("ix_questions_conversation", "conversation", "asked_at"),
)
"""One row a question (or a pick, a hotline press, an inline preview), written before the reply goes out."""

outbox = Table(
    "outbox",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("question_id", String(32)),
    Column("kind", String(16), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("claimed_until", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("delivered_at", DateTime(timezone=True)),
    Index("ix_outbox_due", "status", "next_attempt_at"),
)
"""Escalations to deliver, inserted in the same transaction as their question."""

telegram_updates = Table(
    "telegram_updates",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("payload", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_until", DateTime(timezone=True)),
    Column("done_at", DateTime(timezone=True)),
    Index("ix_telegram_updates_pending", "status", "claimed_until"),
)
"""Telegram's updates, stored before Telegram is told they arrived; answered once."""

conversations = Table(
    "conversations",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("state", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""What the last reply in a chat offered (choices answerable by number), per salted chat key."""

feedback = Table(
    "feedback",
    metadata,
    Column("question_id", String(32), primary_key=True),
    Column("voter", String(64), primary_key=True),
    Column("vote", String(8), nullable=False),
    Column("reason", String(200)),
    Column("channel", String(16), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_feedback_updated_at", "updated_at"),
)
"""👍/👎 on a reply: one row per record and voter (a salted hash), so a second press changes the vote."""

review_decisions = Table(
    "review_decisions",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("entry", String(128)),
    Column("question", Text, nullable=False),
    Column("decision", String(16), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
)
"""The admin console's accepted and dismissed review items, by key (a hash of kind, entry and question)."""
