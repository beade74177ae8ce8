"""What the Telegram tests share besides fixtures: the running bot's handle, test settings, stub engines."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fake_bot_api import FakeBotApi

from bot.config import Settings
from bot.telegram import Tuning
from bot.telegram.runner import TelegramRunner
from intents import Answer, Engine, Outcome, Suggestion
from intents.engine import SUGGEST_HEADER

TOKEN = "123456789:AAFakeTokenForTestsOnly-0123456789ab"
SECRET = "test-secret_0123456789"

FAST = Tuning(
    overall_max_rate=0,  # the fake has no broadcast limit; keeping Telegram's 30/s would only slow the tests
    flood_retries=5,
    error_retries=6,
    retry_backoff=0.01,
    read_timeout=2.0,
    poll_timeout=1,
)


@dataclass
class RunningBot:
    """The fake API, the started bot and, in webhook mode, the port of the HTTP server carrying the route."""

    api: FakeBotApi
    runner: TelegramRunner
    settings: Settings
    webhook_port: int | None = None

    async def idle(self, timeout: float = 10.0) -> None:
        """Wait until every update sent so far has been delivered and handled."""
        app = self.runner.application
        deadline = asyncio.get_running_loop().time() + timeout
        quiet = 0
        while quiet < 3:  # idle three times in a row: nothing is between the queue and a handler
            busy = self.api.pending or not app.update_queue.empty() or app.update_processor.current_concurrent_updates
            quiet = 0 if busy else quiet + 1
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("the bot is still busy")
            await asyncio.sleep(0.02)


class StubEngine:
    """The real engine, except that every question is answered with a fixed outcome (not the matcher's)."""

    def __init__(self, engine: Engine, outcome: Outcome) -> None:
        self._engine = engine
        self.kb = engine.kb
        self.outcome = outcome

    def __getattr__(self, name: str) -> object:
        return getattr(self._engine, name)

    def ask(self, question: str) -> Answer:
        """Offer the first three entries as suggestions, or fall back to 12345."""
        fallback = self.kb.fallback
        if self.outcome is Outcome.FALLBACK:
            return Answer(question, Outcome.FALLBACK, fallback.reply, 0.0, facts=fallback.facts)
        suggestions = tuple(Suggestion(e.id, e.questions[0]) for e in list(self.kb.entries.values())[:3])
        hotline = tuple(f for f in fallback.facts if f.figure == "12345")
        return Answer(question, Outcome.SUGGEST, SUGGEST_HEADER, 50.0, facts=hotline, suggestions=suggestions)


def make_settings(api: FakeBotApi, **changes: object) -> Settings:
    """Return settings pointing the bot at the fake API."""
    base = {"telegram_bot_token": TOKEN, "telegram_base_url": api.base_url, "chat_rate_limit_per_minute": 20}
    return Settings(**(base | changes))
