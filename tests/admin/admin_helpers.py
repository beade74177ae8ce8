"""Helpers of the admin console tests (imported by name, unlike conftest.py, whose module name is shared with
every other test folder's): the admin secrets, logging in, and seeding the test's store."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from fakes.records import fallback_record
from http_helpers import Running

from bot.store import QuestionRecord, Store, utcnow

T = TypeVar("T")
PASSWORD = "correct-horse-battery-staple"
TOKEN = "admin-token-0123456789abcdef"
SALT = "test-salt-0123456789"


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
