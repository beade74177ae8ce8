"""Feedback on replies: one vote per record and voter.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("question_id", sa.String(32), primary_key=True),
        sa.Column("voter", sa.String(64), primary_key=True),
        sa.Column("vote", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(200)),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_feedback_updated_at", "feedback", ["updated_at"])


def downgrade() -> None:
    op.drop_table("feedback")
