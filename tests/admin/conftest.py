"""Fixtures of the admin console tests: the real app under uvicorn on 127.0.0.1 with the console enabled, on a
SQLite store and an editable copy of the knowledge base; headless Debian Chromium for the browser tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fakes.browser import checked_page, chromium

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "http"))

from admin_helpers import PASSWORD, SALT, TOKEN
from http_helpers import Running, ServerFactory, client, serve

from bot.config import Settings
from bot.http import create_app
from bot.service import Assistant
from bot.store import Store
from intents import Engine


@pytest.fixture
def start_admin(engine: Engine, data_dir: Path, knowledge: Path) -> Iterator[ServerFactory]:
    """Return a function that starts the real app with the console enabled (unless admin_password=None and
    admin_token=None are passed) on a SQLite store in the test's folder and an editable knowledge base copy; every
    server stops after the test."""
    with ExitStack() as stack:

        def start(*, engine_: Engine | None = None, **settings: Any) -> Running:
            options: dict[str, Any] = {
                "admin_password": PASSWORD,
                "admin_token": TOKEN,
                "knowledge_dir": knowledge,
                "user_hash_salt": SALT,
            }
            service = Assistant(engine_ or engine, store=Store.from_settings(data_dir, None), salt=SALT)
            app = create_app(service, Settings(**(options | settings)))
            url = stack.enter_context(serve(app))
            http = stack.enter_context(client(url))
            return Running(url, app, service, http)

        yield start


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Return headless Chromium for the module's browser tests (see fakes.browser.chromium)."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any, start_admin: ServerFactory) -> Iterator[Any]:
    """Return a fresh desktop-sized page; any error it logs (a CSP violation among them) fails the test.

    It depends on start_admin so that it closes before the servers stop: a request the page makes after the
    test's last step (a script's late fetch) must not meet a server already gone."""
    with checked_page(browser, []) as page:
        yield page
