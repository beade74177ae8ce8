"""The durable store (SQLite by default, PostgreSQL for replicas) and the records it keeps."""

from bot.store.records import (
    Conversation,
    Feedback,
    OutboxItem,
    OutboxStatus,
    QuestionRecord,
    ReviewDecision,
    ScoredIntent,
    StoredUpdate,
    Vote,
    review_key,
)
from bot.store.store import Store, StoreError, database_url, utcnow

__all__ = [
    "Conversation",
    "Feedback",
    "OutboxItem",
    "OutboxStatus",
    "QuestionRecord",
    "ReviewDecision",
    "ScoredIntent",
    "Store",
    "StoreError",
    "StoredUpdate",
    "Vote",
    "database_url",
    "review_key",
    "utcnow",
]
