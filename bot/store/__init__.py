"""The durable store (SQLite by default, PostgreSQL for replicas) and the records it keeps."""

from bot.store.records import (
    Conversation,
    OutboxItem,
    OutboxStatus,
    QuestionRecord,
    ScoredIntent,
    StoredUpdate,
)
from bot.store.store import Store, StoreError, database_url, utcnow

__all__ = [
    "Conversation",
    "OutboxItem",
    "OutboxStatus",
    "QuestionRecord",
    "ScoredIntent",
    "Store",
    "StoreError",
    "StoredUpdate",
    "database_url",
    "utcnow",
]
