"""Fixtures for the HTTP server tests: the real app under uvicorn on 127.0.0.1, and a local webhook receiver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from http_helpers import Receiver, Running, ServerFactory, client, serve
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from bot.config import Settings
from bot.escalation import Escalator
from bot.http import create_app
from bot.service import AskService
from intents import Engine


@pytest.fixture
def start_server(engine: Engine) -> Iterator[ServerFactory]:
    """Return a function that starts the real app for given settings; every server stops after the test."""
    with ExitStack() as stack:

        def start(
            *,
            escalator: Escalator | None = None,
            telegram_route: BaseRoute | None = None,
            **settings: Any,
        ) -> Running:
            service = AskService(engine, salt="test-salt")
            if escalator is not None:
                service.subscribe(escalator.observe)
            app = create_app(service, Settings(**settings), escalator=escalator, telegram_route=telegram_route)
            url = stack.enter_context(serve(app))
            http = stack.enter_context(client(url))
            return Running(url, app, service, http)

        yield start


@pytest.fixture(scope="module")
def api(engine: Engine) -> Iterator[Running]:
    """Return a server without API keys and with a generous rate limit, shared by a module's tests."""
    service = AskService(engine, salt="test-salt")
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
