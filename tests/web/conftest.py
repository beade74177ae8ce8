"""Fixtures of the chat page tests: the real app under uvicorn on 127.0.0.1 and headless Debian Chromium."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fakes.browser import checked_page, chromium

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "http"))

from http_helpers import Running, ServerFactory, client, serve

from bot.config import Settings
from bot.http import create_app
from bot.service import Assistant
from bot.store import Store
from intents import Engine


@pytest.fixture
def start_server(engine: Engine, data_dir: Path) -> Iterator[ServerFactory]:
    """Return a function that starts the real app for given settings, on a SQLite store in the test's folder;
    every server stops after the test."""
    with ExitStack() as stack:

        def start(**settings: Any) -> Running:
            service = Assistant(engine, store=Store.from_settings(data_dir, None), salt="test-salt")
            app = create_app(service, Settings(**settings))
            url = stack.enter_context(serve(app))
            http = stack.enter_context(client(url))
            return Running(url, app, service, http)

        yield start


@pytest.fixture(scope="module")
def site_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the DATA_DIR of the module's shared server (its SQLite store)."""
    return tmp_path_factory.mktemp("web-data")


@pytest.fixture(scope="module")
def site(engine: Engine, site_data: Path) -> Iterator[Running]:
    """Return one server with a generous rate limit and a SQLite store, shared by a module's browser tests."""
    service = Assistant(engine, store=Store.from_settings(site_data, None), salt="test-salt")
    app = create_app(service, Settings(rate_limit_per_minute=100_000))
    with serve(app) as url, client(url) as http:
        yield Running(url, app, service, http)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Return headless Chromium for the module's browser tests (see fakes.browser.chromium)."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def console_errors() -> list[str]:
    """Return the errors the page logs; a test that provokes one removes it, any other fails the test."""
    return []


@pytest.fixture
def page(browser: Any, console_errors: list[str]) -> Iterator[Any]:
    """Return a fresh desktop-sized page whose console errors fail the test."""
    with checked_page(browser, console_errors) as page:
        yield page
