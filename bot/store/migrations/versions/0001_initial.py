"""The initial schema: questions, outbox, telegram_updates, conversations.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "questions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("asked_at", TZ, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_type", sa.String(16)),
        sa.Column("conversation", sa.String(64)),
        sa.Column("user_hash", sa.String(64)),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("intent", sa.String(128)),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("candidates", sa.JSON, nullable=False),
        sa.Column("kb_version", sa.String(64), nullable=False),
        sa.Column("reply_ms", sa.Float, nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("message_key", sa.String(64), unique=True),
    )
    op.create_index("ix_questions_asked_at", "questions", ["asked_at"])
    op.create_index("ix_questions_outcome", "questions", ["outcome"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("question_id", sa.String(32)),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("claimed_until", TZ),
        sa.Column("last_error", sa.Text),
        sa.Column("delivered_at", TZ),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])
    op.create_table(
        "telegram_updates",
        sa.Column("update_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("claimed_until", TZ),
        sa.Column("done_at", TZ),
    )
    op.create_index("ix_telegram_updates_pending", "telegram_updates", ["status", "claimed_until"])
    op.create_table(
        "conversations",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )


def downgrade() -> None:
    for table in ("conversations", "telegram_updates", "outbox", "questions"):
        op.drop_table(table)
