"""Fixtures for the HTTP server tests: the real app under uvicorn on 127.0.0.1, and a local webhook receiver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from http_helpers import Receiver, Running, ServerFactory, client, serve
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from bot.config import Settings
from bot.escalation import Dispatcher
from bot.http import create_app
from bot.service import Assistant
from bot.store import Store
from intents import Engine


@pytest.fixture
def start_server(engine: Engine, data_dir: Path) -> Iterator[ServerFactory]:
    """Return a function that starts the real app for given settings, on a SQLite store in the test's folder
    (with `escalate_to`, fallbacks go to that webhook); every server stops after the test."""
    with ExitStack() as stack:

        def start(
            *,
            escalate_to: str | None = None,
            dispatch: dict[str, Any] | None = None,
            telegram_route: BaseRoute | None = None,
            **settings: Any,
        ) -> Running:
            store = Store.from_settings(data_dir, None)
            dispatcher = None
            if escalate_to is not None:
                dispatcher = Dispatcher(
                    store, escalate_to, **{"backoff": 0.01, "max_backoff": 0.05, **(dispatch or {})}
                )
            service = Assistant(
                engine,
                store=store,
                salt="test-salt",
                escalate=dispatcher is not None,
                escalate_suggestions=bool(settings.get("escalate_suggestions")),
                on_escalation=dispatcher.wake if dispatcher is not None else None,
            )
            app = create_app(service, Settings(**settings), dispatcher=dispatcher, telegram_route=telegram_route)
            url = stack.enter_context(serve(app))
            http = stack.enter_context(client(url))
            return Running(url, app, service, http)

        yield start


@pytest.fixture(scope="module")
def api(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """Return a server without API keys and with a generous rate limit, shared by a module's tests."""
    store = Store.from_settings(tmp_path_factory.mktemp("api-data"), None)
    service = Assistant(engine, store=store, salt="test-salt")
    app = create_app(service, Settings(rate_limit_per_minute=100_000))
    with serve(app) as url, client(url) as http:
        yield Running(url, app, service, http)


@pytest.fixture
def receiver_factory() -> Iterator[Callable[..., Receiver]]:
    """Return a function that starts a local webhook receiver on 127.0.0.1."""
    with ExitStack() as stack:

        def start(failures: int = 0, delay: float = 0.0, status: int = 500) -> Receiver:
            receiver = Receiver(failures=failures, delay=delay, status=status)
            app = Starlette(routes=[Route("/hook", receiver.endpoint, methods=["POST"])])
            receiver.url = stack.enter_context(serve(app)) + "/hook"
            return receiver

        yield start
