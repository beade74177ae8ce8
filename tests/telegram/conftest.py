"""Fixtures: the fake Bot API, and the real Application running against it in polling or webhook mode."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import cast

import pytest
from bot_harness import FAST, SECRET, TOKEN, RunningBot, StubEngine, make_settings
from fake_bot_api import FakeBotApi, serving
from pydantic import SecretStr
from starlette.applications import Starlette

from bot.service import Assistant
from bot.telegram import Tuning, build_application, start_telegram, telegram_webhook_route
from intents import Engine, Outcome


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's future timedelta periods, so building a RetryAfter does not warn (warnings are errors)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture(scope="session")
def unsure_engine(engine: Engine) -> Engine:
    """Return an engine that is never sure: it offers suggestions for any question."""
    return cast(Engine, StubEngine(engine, Outcome.SUGGEST))


@pytest.fixture(scope="session")
def strict_engine(engine: Engine) -> Engine:
    """Return an engine that never answers nor suggests: every question falls back to 12345."""
    return cast(Engine, StubEngine(engine, Outcome.FALLBACK))


@pytest.fixture
def service(request: pytest.FixtureRequest, engine: Engine) -> Assistant:
    """Return an ask service on the shared engine, or on the one @pytest.mark.bot_options(engine=...) names."""
    marker = request.node.get_closest_marker("bot_options")
    kind = marker.kwargs.get("engine", "real") if marker else "real"
    if kind == "real":
        return Assistant(engine)
    return Assistant(request.getfixturevalue(f"{kind}_engine"))


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """Return a running fake Bot API server."""
    async with FakeBotApi(TOKEN) as fake:
        yield fake


@dataclasses.dataclass
class BotOptions:
    """Per-test knobs, set with @pytest.mark.bot_options(...)."""

    chat_rate_limit_per_minute: int = 20
    tuning: Tuning = FAST
    engine: str = "real"
    """real, unsure (always suggests) or strict (always falls back)."""


@pytest.fixture(params=["polling", "webhook"])
async def bot(request: pytest.FixtureRequest, api: FakeBotApi, service: Assistant) -> AsyncIterator[RunningBot]:
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
    settings = settings.model_copy(update={"webhook_secret": SecretStr(SECRET)})
    application = build_application(settings, service, webhook=True, tuning=options.tuning)
    http = Starlette(routes=[telegram_webhook_route(application, SECRET)])
    async with serving(http) as port:
        settings = settings.model_copy(update={"webhook_url": f"http://127.0.0.1:{port}/telegram/webhook"})
        runner = await start_telegram(settings, service, application=application, tuning=options.tuning)
        try:
            yield RunningBot(api, runner, settings, webhook_port=port)
        finally:
            await runner.stop()


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker."""
    config.addinivalue_line("markers", "bot_options(**kwargs): settings for the bot fixture (see BotOptions)")
