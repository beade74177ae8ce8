"""The shared entry point of every adapter: ask the engine, then tell the observers (metrics, escalation)."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from intents import Answer, Engine

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AskEvent:
    """One answered question, as observers see it: no raw user id, only a salted hash."""

    answer: Answer
    channel: str
    """Where the question came from: cli, telegram, api."""
    user_hash: str | None
    seconds: float
    asked_at: float
    """Unix time when the question arrived."""


Observer = Callable[[AskEvent], None]


def hash_user(user_id: str | int | None, salt: str = "") -> str | None:
    """Return a stable pseudonym for a user id, so logs and webhooks never carry the raw id."""
    if user_id is None or user_id == "":
        return None
    return hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest()[:16]


class AskService:
    """Wraps the engine so every channel answers the same way and is observed the same way."""

    def __init__(self, engine: Engine, *, salt: str = "") -> None:
        self.engine = engine
        self._salt = salt
        self._observers: list[Observer] = []

    def subscribe(self, observer: Observer) -> None:
        """Call observer with every AskEvent; an observer that raises is logged, never breaks a reply."""
        self._observers.append(observer)

    def ask(self, question: str, *, channel: str, user_id: str | int | None = None) -> Answer:
        """Answer a question from a channel and notify the observers."""
        asked_at = time.time()
        start = time.perf_counter()
        answer = self.engine.ask(question)
        event = AskEvent(
            answer=answer,
            channel=channel,
            user_hash=hash_user(user_id, self._salt),
            seconds=time.perf_counter() - start,
            asked_at=asked_at,
        )
        for observer in self._observers:
            try:
                observer(event)
            except Exception:
                logger.exception("observer %r failed", observer)
        return answer
