"""The API's limits, written once: the server enforces them and the OpenAPI document states them."""

from __future__ import annotations

from bot.service import MAX_REASON_CHARS
from intents import Thresholds

MAX_BODY_BYTES = 16 * 1024
MAX_QUESTION_CHARS = 4096
MAX_CHAT_ID_CHARS = 128
MAX_RECORD_ID_CHARS = 64
MAX_SUGGESTIONS = Thresholds().max_suggestions

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_CHAT_ID_CHARS",
    "MAX_QUESTION_CHARS",
    "MAX_REASON_CHARS",
    "MAX_RECORD_ID_CHARS",
    "MAX_SUGGESTIONS",
]
