"""Nothing handed to `python -m bot serve` is lost: replied questions, escalations and Telegram updates survive
`kill -9` and SIGTERM; two replicas on one PostgreSQL answer every update once. Real subprocesses."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import test_serve
from http_helpers import ANSWERED, OUT_OF_SCOPE, Receiver
from test_serve import TOKEN, FakeTelegram, private_message

from bot.escalation import IDEMPOTENCY_HEADER
from bot.store import Store

fake_telegram = test_serve.fake_telegram
start_serve = test_serve.start_serve

SALT = "durability-salt-0123456789"
SECRET = "durability-webhook-secret-0123"
BACKENDS = ["sqlite", "postgresql"]
T = TypeVar("T")


def _store_env(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    """Return the store settings of a test: SQLite in its folder, or the module's PostgreSQL database, emptied."""
    env = {"DATA_DIR": str(tmp_path / "data"), "USER_HASH_SALT": SALT}
    if backend == "postgresql":
        env["DATABASE_URL"] = request.getfixturevalue("postgres_url")
        asyncio.run(_with_store(env, Store.truncate_all))
    return env


async def _with_store(env: dict[str, str], use: Callable[[Store], Awaitable[T]]) -> T:
    store = Store.from_settings(Path(env["DATA_DIR"]), env.get("DATABASE_URL"))
    await store.open()
    try:
        return await use(store)
    finally:
        await store.close()


async def _records(store: Store) -> dict[str, str]:
    return {r.id: r.outcome for r in await store.questions_since(datetime(2000, 1, 1, tzinfo=UTC))}


def _until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("backend", BACKENDS)
def test_replied_questions_survive_kill_9_and_no_raw_id_is_stored(
    start_serve: Any, tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    env = _store_env(backend, tmp_path, request)
    server = start_serve(**env)
    replied: dict[str, str] = {}
    for i in range(60):
        question = (ANSWERED, OUT_OF_SCOPE, "")[i % 3]
        body = server.client.post("/v1/ask", json={"question": question, "chat_id": 987654321987 + i}).json()
        replied[body["id"]] = body["outcome"]
    server.stop(signal.SIGKILL)  # no shutdown at all: only what was committed before each reply is there
    stored = asyncio.run(_with_store(env, _records))
    assert stored == replied
    if backend == "sqlite":
        raw = b"".join(p.read_bytes() for p in (tmp_path / "data").glob("assistant.db*"))
        assert raw and b"987654321987" not in raw and "987654321987".encode("utf-16-le") not in raw


@pytest.mark.parametrize("backend", BACKENDS)
def test_escalations_survive_kill_9_and_are_delivered_once_after_restart(
    start_serve: Any,
    receiver_factory: Callable[..., Receiver],
    tmp_path: Path,
    request: pytest.FixtureRequest,
    backend: str,
) -> None:
    receiver = receiver_factory(failures=10**9, status=503)  # the receiver is down
    env = {
        **_store_env(backend, tmp_path, request),
        "ESCALATION_WEBHOOK_URL": receiver.url,
        "ESCALATION_TIMEOUT_SECONDS": "1",
        "ESCALATION_LEASE_SECONDS": "3",  # a killed process's claims lapse after 3 s (25 s by default)
    }
    first = start_serve(**env)
    ids = [first.client.post("/v1/ask", json={"question": OUT_OF_SCOPE}).json()["id"] for _ in range(20)]
    _until(lambda: len(receiver.attempts) >= 1, 10, "a first delivery attempt")
    first.stop(signal.SIGKILL)
    receiver.failures = len(receiver.attempts)  # the receiver is back: it accepts from now on
    second = start_serve(**env)
    _until(lambda: len(receiver.accepted) >= 20, 60, "every escalation delivered after the restart")
    second.stop()
    bodies = [json.loads(body) for _, body in receiver.accepted]
    assert sorted(b["record_id"] for b in bodies) == sorted(ids)
    keys = Counter(headers[IDEMPOTENCY_HEADER.lower()] for headers, _ in receiver.accepted)
    assert len(keys) == 20 and max(keys.values()) == 1


def _post_updates(url: str, updates: list[dict[str, Any]]) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    with httpx.Client(timeout=10, trust_env=False) as http:
        for update in updates:
            assert http.post(f"{url}/telegram/webhook", json=update, headers=headers).status_code == 200


def _answered(fake: FakeTelegram) -> Counter[int]:
    return Counter(int(p["chat_id"]) for p in fake.called("sendMessage"))


def _webhook_env(fake: FakeTelegram, extra: dict[str, str]) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": fake.base_url,
        "WEBHOOK_URL": "https://bot.example.org/telegram/webhook",
        "WEBHOOK_SECRET": SECRET,
        **extra,
    }


def test_telegram_updates_acknowledged_before_a_kill_9_are_answered_after_restart(
    start_serve: Any, fake_telegram: FakeTelegram, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # The killed process's leases lapse 3 s after it took the updates (20 s by default).
    env = {**_webhook_env(fake_telegram, _store_env("sqlite", tmp_path, request)), "INBOX_LEASE_SECONDS": "3"}
    fake_telegram.send_delay = 30.0  # Telegram stalls: the bot cannot answer before it is killed
    first = start_serve(**env)
    chats = [7_000_000 + i for i in range(100)]
    _post_updates(first.url, [private_message(i + 1, ANSWERED, user_id=chat) for i, chat in enumerate(chats)])
    first.stop(signal.SIGKILL)  # 100 acknowledged (Telegram will not resend them), none answered
    fake_telegram.send_delay = 0.0
    second = start_serve(**env)
    _until(lambda: set(_answered(fake_telegram)) >= set(chats), 60, "every stored update answered")
    assert second.stop(signal.SIGTERM) == 0


def test_sigterm_stops_within_ten_seconds_and_leaves_the_rest_in_the_inbox(
    start_serve: Any, fake_telegram: FakeTelegram, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = _webhook_env(fake_telegram, _store_env("sqlite", tmp_path, request))
    fake_telegram.send_delay = 3.0
    first = start_serve(**env)
    chats = [7_100_000 + i for i in range(40)]
    _post_updates(first.url, [private_message(i + 1, ANSWERED, user_id=chat) for i, chat in enumerate(chats)])
    started = time.monotonic()
    assert first.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 10
    fake_telegram.send_delay = 0.0
    second = start_serve(**env)
    _until(lambda: set(_answered(fake_telegram)) >= set(chats), 60, "every update answered after the restart")
    second.stop()


def test_two_replicas_on_one_postgresql_answer_every_update_once(
    start_serve: Any, fake_telegram: FakeTelegram, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    shared = _webhook_env(fake_telegram, _store_env("postgresql", tmp_path, request))
    shared.pop("DATA_DIR")
    first = start_serve(**shared, DATA_DIR=str(tmp_path / "a"))
    second = start_serve(**shared, DATA_DIR=str(tmp_path / "b"))
    chats = [7_200_000 + i for i in range(120)]
    updates = [private_message(i + 1, ANSWERED, user_id=chat) for i, chat in enumerate(chats)]
    _post_updates(first.url, updates[0::2])
    _post_updates(second.url, updates[1::2])
    _post_updates(second.url, updates[0:40:2])  # Telegram retried these at the other replica
    _post_updates(first.url, updates[1:40:2])
    _until(lambda: set(_answered(fake_telegram)) >= set(chats), 60, "every update answered")
    assert first.stop() == 0 and second.stop() == 0  # both finished: nothing more can come
    answered = _answered(fake_telegram)
    assert all(answered[chat] == 1 for chat in chats), "an update was answered twice"
