"""Fixtures: the fake Bot API, and the real Application running against it in polling or webhook mode."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import cast

import pytest
from fake_bot_api import FakeBotApi, serving
from starlette.applications import Starlette

from bot.config import Settings
from bot.service import AskService
from bot.telegram import Tuning, build_application, start_telegram, telegram_webhook_route
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


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's future timedelta periods, so building a RetryAfter does not warn (warnings are errors)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


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


@pytest.fixture(scope="session")
def unsure_engine(engine: Engine) -> Engine:
    """Return an engine that is never sure: it offers suggestions for any question."""
    return cast(Engine, StubEngine(engine, Outcome.SUGGEST))


@pytest.fixture(scope="session")
def strict_engine(engine: Engine) -> Engine:
    """Return an engine that never answers nor suggests: every question falls back to 12345."""
    return cast(Engine, StubEngine(engine, Outcome.FALLBACK))


@pytest.fixture
def service(request: pytest.FixtureRequest, engine: Engine) -> AskService:
    """Return an ask service on the shared engine, or on the one @pytest.mark.bot_options(engine=...) names."""
    marker = request.node.get_closest_marker("bot_options")
    kind = marker.kwargs.get("engine", "real") if marker else "real"
    if kind == "real":
        return AskService(engine)
    return AskService(request.getfixturevalue(f"{kind}_engine"))


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """Return a running fake Bot API server."""
    async with FakeBotApi(TOKEN) as fake:
        yield fake


def make_settings(api: FakeBotApi, **changes: object) -> Settings:
    """Return settings pointing the bot at the fake API."""
    base = Settings(telegram_bot_token=TOKEN, telegram_base_url=api.base_url, chat_rate_limit_per_minute=20)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@dataclasses.dataclass
class BotOptions:
    """Per-test knobs, set with @pytest.mark.bot_options(...)."""

    chat_rate_limit_per_minute: int = 20
    tuning: Tuning = FAST
    engine: str = "real"
    """real, unsure (always suggests) or strict (always falls back)."""


@pytest.fixture(params=["polling", "webhook"])
async def bot(request: pytest.FixtureRequest, api: FakeBotApi, service: AskService) -> AsyncIterator[RunningBot]:
    """Run the real Application against the fake API, once per mode."""
    marker = request.node.get_closest_marker("bot_options")
    options = BotOptions(**(marker.kwargs if marker else {}))
    settings = make_settings(api, chat_rate_limit_per_minute=options.chat_rate_limit_per_minute)
    if request.param == "polling":
        runner = await start_telegram(settings, service, tuning=options.tuning)
        try:
            yield RunningBot(api, runner, settings)
        finally:
            await runner.stop()
        return
    settings = dataclasses.replace(settings, webhook_secret=SECRET)
    application = build_application(settings, service, webhook=True, tuning=options.tuning)
    http = Starlette(routes=[telegram_webhook_route(application, SECRET)])
    async with serving(http) as port:
        settings = dataclasses.replace(settings, webhook_url=f"http://127.0.0.1:{port}/telegram/webhook")
        runner = await start_telegram(settings, service, application=application, tuning=options.tuning)
        try:
            yield RunningBot(api, runner, settings, webhook_port=port)
        finally:
            await runner.stop()


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker."""
    config.addinivalue_line("markers", "bot_options(**kwargs): settings for the bot fixture (see BotOptions)")
