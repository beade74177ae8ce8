"""Fixtures of the admin console tests: the real app under uvicorn on 127.0.0.1 with the console enabled, on a
SQLite store and an editable copy of the knowledge base; headless Debian Chromium for the browser tests."""

from __future__ import annotations

import asyncio
import shutil
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fakes.browser import CHROMIUM, CHROMIUM_ARGS
from fakes.records import fallback_record

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "http"))

from http_helpers import Running, ServerFactory, client, serve

from bot.config import AdminCredentials, Settings
from bot.http import create_app
from bot.service import Assistant
from bot.store import QuestionRecord, Store, utcnow
from intents import Engine

T = TypeVar("T")
PASSWORD = "correct-horse-battery-staple"
TOKEN = "admin-token-0123456789abcdef"
SALT = "test-salt-0123456789"


def credentials(**overrides: Any) -> AdminCredentials:
    """Return the test's admin credentials (password and token)."""
    values: dict[str, Any] = {"password": PASSWORD, "token": TOKEN, "salt": SALT}
    return AdminCredentials.create(**(values | overrides))


@pytest.fixture
def start_admin(engine: Engine, data_dir: Path, knowledge: Path) -> Iterator[ServerFactory]:
    """Return a function that starts the real app with the console enabled (unless admin=None is passed) on a
    SQLite store in the test's folder and an editable knowledge base copy; every server stops after the test."""
    with ExitStack() as stack:

        def start(*, engine_: Engine | None = None, **settings: Any) -> Running:
            options: dict[str, Any] = {"admin": credentials(), "knowledge_dir": knowledge, "user_hash_salt": SALT}
            service = Assistant(engine_ or engine, store=Store.from_settings(data_dir, None), salt=SALT)
            app = create_app(service, Settings(**(options | settings)))
            url = stack.enter_context(serve(app))
            http = stack.enter_context(client(url))
            return Running(url, app, service, http)

        yield start


def login(server: Running, secret: str = PASSWORD) -> str:
    """Log the server's client in; return the session's CSRF token."""
    response = server.client.post("/admin/login", json={"secret": secret}, headers={"Origin": server.url})
    assert response.status_code == 200, response.text
    csrf = response.json()["csrf"]
    assert isinstance(csrf, str)
    return csrf


def posting(server: Running, csrf: str) -> dict[str, str]:
    """Return the headers of a POST the console's own page sends."""
    return {"Origin": server.url, "X-CSRF-Token": csrf}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Return headless Chromium driven by Playwright, or skip when no browser can be had (module-scoped, see
    tests/web/conftest.py)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium chromium-driver)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """Return a fresh desktop-sized page; any error it logs (a CSP violation among them) fails the test."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"the page logged errors: {errors}"


def with_store(data_dir: Path, action: Callable[[Store], Awaitable[T]]) -> T:
    """Run action on a store of its own on the test's SQLite file (the server's lives on another thread), in a
    thread of its own: Playwright's sync API keeps an event loop running in the test's thread."""

    async def run() -> T:
        store = Store.from_settings(data_dir, None)
        await store.open()
        try:
            return await action(store)
        finally:
            await store.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def seed(data_dir: Path, records: Sequence[QuestionRecord]) -> None:
    """Write records into the test's store."""

    async def put(store: Store) -> None:
        for record in records:
            await store.record_question(record)

    with_store(data_dir, put)


def record(question: str, *, outcome: str = "fallback", days_ago: float = 0, **fields: Any) -> QuestionRecord:
    """Return a record of an API question (a fallback by default) asked days_ago."""
    base = fallback_record(uuid.uuid4().hex)
    values = {f: getattr(base, f) for f in base.__slots__} | {"question": question, "outcome": outcome}
    values["asked_at"] = utcnow() - timedelta(days=days_ago)
    return QuestionRecord(**(values | fields))
