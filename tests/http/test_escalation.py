"""Fallen-back questions are POSTed to the escalation webhook: retried, signed, delivered once, never blocking."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

import pytest
from http_helpers import ANSWERED, OUT_OF_SCOPE, Receiver, ServerFactory, client, serve

from bot.config import Settings
from bot.escalation import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, Escalation, Escalator
from bot.http import create_app
from bot.service import AskEvent, AskService, hash_user
from intents import Answer, Engine, Outcome

SECRET = "escalation-secret-5b1e"
ReceiverFactory = Callable[..., Receiver]


def _escalator(receiver: Receiver, results: list[str] | None = None, **options: float) -> Escalator:
    kwargs: dict[str, float] = {"backoff": 0.01, "max_backoff": 0.05, **options}
    return Escalator(
        receiver.url,
        secret=SECRET,
        on_result=results.append if results is not None else None,
        max_attempts=int(kwargs.pop("max_attempts", 6)),
        queue_size=int(kwargs.pop("queue_size", 1000)),
        **kwargs,
    )


def test_fallback_is_delivered_once_after_failures(
    start_server: ServerFactory, receiver_factory: ReceiverFactory
) -> None:
    receiver = receiver_factory(failures=2)
    results: list[str] = []
    api = start_server(escalator=_escalator(receiver, results))
    before = time.time()
    response = api.client.post("/v1/ask", json={"question": OUT_OF_SCOPE, "chat_id": 987654321})
    assert response.status_code == 200 and response.json()["fallback"] is True
    receiver.wait_for(lambda r: len(r.accepted) == 1)
    time.sleep(0.3)  # nothing more arrives
    assert len(receiver.attempts) == 3 and len(receiver.accepted) == 1
    assert results == ["queued", "retried", "retried", "delivered"]
    keys = {headers[IDEMPOTENCY_HEADER.lower()] for headers, _ in receiver.attempts}
    assert len(keys) == 1  # every attempt carries the same id, so a receiver can drop repeats
    assert len({body for _, body in receiver.attempts}) == 1
    headers, body = receiver.accepted[0]
    payload = json.loads(body)
    assert payload["id"] == keys.pop()
    assert payload["question"] == OUT_OF_SCOPE
    assert payload["channel"] == "api"
    assert payload["user_hash"] == hash_user(987654321, "test-salt")
    assert "987654321" not in body.decode()
    assert before - 1 <= datetime.fromisoformat(payload["time"]).timestamp() <= time.time() + 1
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers[SIGNATURE_HEADER.lower()], expected)
    assert headers["content-type"] == "application/json"


def test_only_fallbacks_are_escalated(
    start_server: ServerFactory, receiver_factory: ReceiverFactory, engine: Engine
) -> None:
    receiver = receiver_factory()
    escalator = _escalator(receiver)
    api = start_server(escalator=escalator)
    for question in [ANSWERED, "", "😀"]:  # an answer, and two empty questions
        assert api.client.post("/v1/ask", json={"question": question}).status_code == 200
    # Suggestions depend on the knowledge base of the day: hand the observer one directly.
    unsure = Answer(question="营商环境", outcome=Outcome.SUGGEST, reply="", score=60.0)
    escalator.observe(AskEvent(answer=unsure, channel="api", user_hash=None, seconds=0.001, asked_at=time.time()))
    api.client.post("/v1/ask", json={"question": OUT_OF_SCOPE})
    receiver.wait_for(lambda r: len(r.accepted) == 1)
    time.sleep(0.2)
    assert [json.loads(b)["question"] for _, b in receiver.accepted] == [OUT_OF_SCOPE]


def test_a_slow_webhook_never_blocks_the_reply(start_server: ServerFactory, receiver_factory: ReceiverFactory) -> None:
    receiver = receiver_factory(delay=1.0)
    api = start_server(escalator=_escalator(receiver, drain_timeout=0.1))
    started = time.perf_counter()
    for _ in range(5):
        assert api.client.post("/v1/ask", json={"question": OUT_OF_SCOPE}).status_code == 200
    assert time.perf_counter() - started < 0.8


def test_full_queue_drops_with_a_warning_and_no_pii(
    start_server: ServerFactory, receiver_factory: ReceiverFactory, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = receiver_factory(delay=1.0)
    results: list[str] = []
    api = start_server(escalator=_escalator(receiver, results, queue_size=1, drain_timeout=0.1))
    caplog.set_level(logging.INFO)
    questions = [f"{OUT_OF_SCOPE}{i}号" for i in range(5)]
    for question in questions:
        api.client.post("/v1/ask", json={"question": question, "chat_id": 55501234})
    assert results.count("dropped") >= 3  # one in flight, one queued, the rest dropped
    warnings = [r for r in caplog.records if r.name == "bot.escalation" and r.levelno == logging.WARNING]
    assert warnings and all("queue full" in r.getMessage() for r in warnings)
    for record in caplog.records:
        message = record.getMessage()
        assert "55501234" not in message and not any(q in message for q in questions)


def test_permanent_refusal_is_not_retried_and_errors_give_up(receiver_factory: ReceiverFactory) -> None:
    async def scenario(receiver: Receiver, **options: float) -> tuple[bool, list[str]]:
        results: list[str] = []
        escalator = _escalator(receiver, results, **options)
        await escalator.start()
        escalation = Escalation(id="abc", question="问题", channel="api", asked_at=0.0, user_hash=None)
        delivered = await escalator.deliver(escalation)
        await escalator.stop()
        return delivered, results

    refusing = receiver_factory(failures=100, status=403)
    assert asyncio.run(scenario(refusing, max_attempts=3)) == (False, ["failed"])
    assert len(refusing.attempts) == 1  # a 4xx is permanent: asked once, never again

    failing = receiver_factory(failures=100)
    assert asyncio.run(scenario(failing, max_attempts=3)) == (False, ["retried", "retried", "failed"])
    assert len(failing.attempts) == 3  # a 5xx is retried up to max_attempts, then given up

    throttling = receiver_factory(failures=1, status=429)
    assert asyncio.run(scenario(throttling, max_attempts=3)) == (True, ["retried", "delivered"])
    assert len(throttling.attempts) == 2  # 429 is not permanent


def test_unreachable_webhook_is_retried_then_given_up() -> None:
    async def scenario() -> list[str]:
        results: list[str] = []
        escalator = Escalator(
            "http://127.0.0.1:9/hook", max_attempts=3, backoff=0.01, max_backoff=0.02, on_result=results.append
        )
        await escalator.start()
        await escalator.deliver(Escalation(id="x", question="q", channel="api", asked_at=0.0, user_hash=None))
        await escalator.stop()
        return results

    assert asyncio.run(scenario()) == ["retried", "retried", "failed"]


def test_questions_from_other_threads_are_queued(receiver_factory: ReceiverFactory, engine: Engine) -> None:
    receiver = receiver_factory()

    async def scenario() -> None:
        escalator = _escalator(receiver)
        service = AskService(engine)
        service.subscribe(escalator.observe)
        await escalator.start()
        thread = threading.Thread(target=service.ask, args=(OUT_OF_SCOPE,), kwargs={"channel": "telegram"})
        thread.start()
        thread.join()
        await escalator.stop(drain_timeout=5)

    asyncio.run(scenario())
    assert [json.loads(b)["channel"] for _, b in receiver.accepted] == ["telegram"]


def test_shutdown_delivers_what_is_queued(receiver_factory: ReceiverFactory, engine: Engine) -> None:
    receiver = receiver_factory(delay=0.2)
    escalator = _escalator(receiver)
    service = AskService(engine)
    service.subscribe(escalator.observe)
    app = create_app(service, Settings(), escalator=escalator)
    with serve(app) as url, client(url) as http:
        for _ in range(3):
            http.post("/v1/ask", json={"question": OUT_OF_SCOPE})
        assert len(receiver.accepted) < 3
    # Leaving `serve` stopped the server: its lifespan's shutdown drained the queue first.
    assert len(receiver.accepted) == 3
