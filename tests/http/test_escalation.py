"""Fallen-back questions go to the escalation webhook through the store's outbox: signed, retried from each item's
own state, delivered once per idempotency key, never dropped, never blocking a reply."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from fakes.records import fallback_record
from http_helpers import ANSWERED, OUT_OF_SCOPE, Receiver, ServerFactory

from bot.cli import main
from bot.escalation import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, Dispatcher
from bot.service import Asker, Assistant, hash_user
from bot.store import OutboxItem, OutboxStatus, Store, utcnow
from intents import Engine, Outcome

SECRET = "escalation-secret-5b1e"
ReceiverFactory = Callable[..., Receiver]
API = Asker("api")


def _dispatcher(store: Store, url: str, results: list[str] | None = None, **options: float) -> Dispatcher:
    max_attempts = int(options.pop("max_attempts", 6))
    return Dispatcher(
        store,
        url,
        secret=SECRET,
        backoff=options.pop("backoff", 0.01),
        max_backoff=options.pop("max_backoff", 0.05),
        max_attempts=max_attempts,
        poll_seconds=options.pop("poll_seconds", 0.05),
        on_result=results.append if results is not None else None,
        **options,
    )


async def _until(predicate: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)


def _item(number: int) -> OutboxItem:
    body = json.dumps({"id": f"item{number}", "type": "fallback", "question": f"问题{number}"}, ensure_ascii=False)
    return OutboxItem(id=f"item{number}", question_id=None, kind="fallback", payload=body, created_at=utcnow())


async def _queue(store: Store, engine: Engine, items: int) -> None:
    """Record `items` fallbacks with their outbox rows, as the façade does."""
    service = Assistant(engine, store=store, escalate=True)
    for _ in range(items):
        reply = await service.ask(OUT_OF_SCOPE, API)
        assert reply.outcome is Outcome.FALLBACK and reply.recorded


def test_fallback_is_delivered_once_after_failures(
    receiver_factory: ReceiverFactory, start_server: ServerFactory
) -> None:
    receiver = receiver_factory(failures=2)
    api = start_server(escalate_to=receiver.url, dispatch={"secret": SECRET, "poll_seconds": 0.05})
    before = time.time()
    response = api.client.post("/v1/ask", json={"question": OUT_OF_SCOPE, "chat_id": 987654321})
    assert response.status_code == 200 and response.json()["fallback"] is True
    receiver.wait_for(lambda r: len(r.accepted) == 1)
    assert len(receiver.attempts) == 3 and len(receiver.accepted) == 1
    keys = {headers[IDEMPOTENCY_HEADER.lower()] for headers, _ in receiver.attempts}
    assert len(keys) == 1  # every attempt carries the same id, so a receiver can drop repeats
    assert len({body for _, body in receiver.attempts}) == 1
    headers, body = receiver.accepted[0]
    payload = json.loads(body)
    assert payload["id"] == keys.pop()
    assert payload["record_id"] == response.json()["id"]
    assert payload["question"] == OUT_OF_SCOPE
    assert payload["channel"] == "api"
    assert payload["user_hash"] == hash_user(987654321, "test-salt")
    assert "987654321" not in body.decode()
    assert before - 1 <= datetime.fromisoformat(payload["time"]).timestamp() <= time.time() + 1
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers[SIGNATURE_HEADER.lower()], expected)
    assert headers["content-type"] == "application/json"


async def test_only_fallbacks_are_escalated_unless_suggestions_are_asked_for(
    store: Store, engine: Engine, receiver_factory: ReceiverFactory
) -> None:
    unsure = next(q for q in ("营商环境", "开办", "办事", "企业", "审批") if engine.ask(q).outcome is Outcome.SUGGEST)
    plain = Assistant(engine, store=store, escalate=True)
    for question in [ANSWERED, "", "😀", unsure, OUT_OF_SCOPE]:
        await plain.ask(question, API)
    assert [json.loads(i.payload)["question"] for i in await store.outbox_items(["pending"])] == [OUT_OF_SCOPE]
    wider = Assistant(engine, store=store, escalate=True, escalate_suggestions=True)
    await wider.ask(unsure, API)
    kinds = [json.loads(i.payload)["type"] for i in await store.outbox_items(["pending"])]
    assert kinds == ["fallback", "suggest"]


def test_a_slow_webhook_never_blocks_the_reply(receiver_factory: ReceiverFactory, start_server: ServerFactory) -> None:
    receiver = receiver_factory(delay=1.0)
    api = start_server(escalate_to=receiver.url)
    started = time.perf_counter()
    for _ in range(5):
        assert api.client.post("/v1/ask", json={"question": OUT_OF_SCOPE}).status_code == 200
    assert time.perf_counter() - started < 0.8


async def test_a_thousand_fallbacks_with_a_slow_receiver_are_all_delivered_once(
    store: Store, engine: Engine, receiver_factory: ReceiverFactory
) -> None:
    receiver = receiver_factory(delay=0.005)
    # Nothing is dropped while the receiver lags: the outbox holds them all (some sixty claims of 16).
    await _queue(store, engine, 1000)
    results: list[str] = []
    dispatcher = _dispatcher(store, receiver.url, results)
    await dispatcher.start()
    try:
        await _until(lambda: len(receiver.accepted) == 1000, timeout=120)
    finally:
        await dispatcher.stop()
    keys = Counter(h[IDEMPOTENCY_HEADER.lower()] for h, _ in receiver.accepted)
    assert len(keys) == 1000 and max(keys.values()) == 1
    assert (await store.outbox_counts()) == {"delivered": 1000}


async def test_refusals_retries_and_dead_items(store: Store, receiver_factory: ReceiverFactory) -> None:
    async def run(receiver: Receiver, item: OutboxItem, outcomes: int) -> list[str]:
        results: list[str] = []
        await store.record_question(fallback_record(f"q{item.id}"), outbox_item=item)
        dispatcher = _dispatcher(store, receiver.url, results, max_attempts=3)
        await dispatcher.start()
        try:
            await _until(lambda: len(results) == outcomes)
        finally:
            await dispatcher.stop()
        return results

    refusing = receiver_factory(failures=100, status=403)
    assert await run(refusing, _item(1), 1) == ["failed"]
    assert len(refusing.attempts) == 1  # a 4xx is permanent: asked once, never again

    failing = receiver_factory(failures=100)
    assert await run(failing, _item(2), 3) == ["retried", "retried", "failed"]
    assert len(failing.attempts) == 3  # a 5xx is retried up to max_attempts, then parked

    throttling = receiver_factory(failures=1, status=429)
    assert await run(throttling, _item(3), 2) == ["retried", "delivered"]  # 429 is not permanent

    dead = {i.id: i for i in await store.outbox_items([OutboxStatus.DEAD])}
    assert set(dead) == {"item1", "item2"}
    assert dead["item1"].attempts == 1 and dead["item1"].last_error == "HTTP 403"
    assert dead["item2"].attempts == 3 and dead["item2"].last_error == "HTTP 500"


async def test_unreachable_webhook_is_retried_then_parked_and_requeued_by_the_cli(
    store: Store,
    data_dir: Path,
    receiver_factory: ReceiverFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await store.record_question(fallback_record("qx"), outbox_item=_item(7))
    results: list[str] = []
    dispatcher = _dispatcher(store, "http://127.0.0.1:9/hook", results, max_attempts=3)
    await dispatcher.start()
    try:
        await _until(lambda: len(results) == 3)
    finally:
        await dispatcher.stop()
    assert results == ["retried", "retried", "failed"]
    assert [i.id for i in await store.outbox_items([OutboxStatus.DEAD])] == ["item7"]

    monkeypatch.setenv("DATA_DIR", str(data_dir))
    if store.dialect == "postgresql":
        monkeypatch.setenv("DATABASE_URL", store.url)
        monkeypatch.setenv("USER_HASH_SALT", "replica-salt-0123456789")
    assert await asyncio.to_thread(main, ["db", "outbox"]) == 0
    listing = capsys.readouterr().out
    assert "dead 1" in listing and "item7" in listing and "ConnectError" in listing
    assert await asyncio.to_thread(main, ["db", "outbox", "--retry-dead"]) == 0
    assert "requeued 1" in capsys.readouterr().out

    receiver = receiver_factory()
    dispatcher = _dispatcher(store, receiver.url)
    await dispatcher.start()
    try:
        await _until(lambda: len(receiver.accepted) == 1)
    finally:
        await dispatcher.stop()
    assert receiver.accepted[0][0][IDEMPOTENCY_HEADER.lower()] == "item7"


async def test_items_a_dead_process_had_claimed_are_delivered_after_its_lease(
    store: Store, engine: Engine, receiver_factory: ReceiverFactory
) -> None:
    await _queue(store, engine, 20)
    taken = await store.claim_outbox(limit=10, lease_seconds=0.5)  # a replica took ten, then died
    assert len(taken) == 10
    receiver = receiver_factory()
    dispatcher = _dispatcher(store, receiver.url)
    await dispatcher.start()
    try:
        await _until(lambda: len(receiver.accepted) == 10)  # the free ten at once
        await _until(lambda: len(receiver.accepted) == 20)  # the other ten once their lease ran out
    finally:
        await dispatcher.stop()
    keys = Counter(h[IDEMPOTENCY_HEADER.lower()] for h, _ in receiver.accepted)
    assert len(keys) == 20 and max(keys.values()) == 1


async def test_two_dispatchers_on_one_store_deliver_each_item_once(
    store: Store, engine: Engine, receiver_factory: ReceiverFactory
) -> None:
    await _queue(store, engine, 300)
    receiver = receiver_factory(delay=0.002)
    first, second = _dispatcher(store, receiver.url), _dispatcher(store, receiver.url)
    await first.start()
    await second.start()
    try:
        await _until(lambda: len(receiver.accepted) == 300)
    finally:
        await first.stop()
        await second.stop()
    keys = Counter(h[IDEMPOTENCY_HEADER.lower()] for h, _ in receiver.accepted)
    assert len(keys) == 300 and max(keys.values()) == 1
