"""Telegram updates exactly once, on SQLite and PostgreSQL: stored before the 200, repeats not answered again,
updates a dead process left unanswered answered at the next start, a stop leaves the rest in the inbox."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
import telegram_factories as tf
from bot_harness import FAST, SECRET, make_settings
from fake_bot_api import FakeBotApi, serving
from starlette.applications import Starlette

from bot.service import Assistant
from bot.store import Store
from bot.store.schema import telegram_updates as UPDATES
from bot.telegram import SECRET_HEADER, WEBHOOK_PATH, build_application, start_telegram, telegram_webhook_route
from bot.telegram.inbox import InboxTuning
from bot.telegram.runner import TelegramRunner

QUICK = InboxTuning(lease_seconds=30.0, sweep_seconds=0.2)


TELEGRAM_CONNECTIONS = 40
"""setWebhook's default max_connections: Telegram never has more posts than this in flight to one bot."""


def telegram_client() -> httpx.AsyncClient:
    """A client with Telegram's connection limit, waiting for a connection rather than giving up after 5 s."""
    return httpx.AsyncClient(
        limits=httpx.Limits(max_connections=TELEGRAM_CONNECTIONS), timeout=httpx.Timeout(30.0, pool=None)
    )


async def post_as_telegram(client: httpx.AsyncClient, url: str, bodies: list[object]) -> list[httpx.Response]:
    """Post every update as Telegram does, at most TELEGRAM_CONNECTIONS at a time. The posts wait their turn here,
    not in httpx's pool, whose queue costs time quadratic in its length (300 queued posts took 40 s of CPU)."""
    turns = asyncio.Semaphore(TELEGRAM_CONNECTIONS)

    async def post(body: object) -> httpx.Response:
        async with turns:
            return await client.post(url, json=body, headers={SECRET_HEADER: SECRET})

    return await asyncio.gather(*(post(body) for body in bodies))


async def _until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


async def _rows(db: Store) -> dict[int, tuple[str, datetime | None]]:
    async with db.engine.connect() as conn:
        result = (await conn.execute(sa.select(UPDATES.c.update_id, UPDATES.c.status, UPDATES.c.claimed_until))).all()
    return {r.update_id: (r.status, r.claimed_until) for r in result}


def _question(api: FakeBotApi, update_id: int, text: str = "企业开办要几天") -> tuple[dict[str, object], int]:
    """Return an update asking a question from a new private chat, and that chat's id."""
    u = tf.user()
    chat = tf.private_chat(u)
    api.chats[chat["id"]] = chat
    return {"update_id": update_id, "message": tf.message(chat, update_id, sender=u, text=text)}, chat["id"]


@asynccontextmanager
async def webhook_bot(api: FakeBotApi, service: Assistant, repo: Store) -> AsyncIterator[tuple[TelegramRunner, str]]:
    """Run the bot in webhook mode with the inbox; yield the runner and the route's URL (posted to directly)."""
    settings = make_settings(api, webhook_secret=SECRET)
    application = build_application(settings, service, webhook=True, tuning=FAST, inbox=repo, inbox_tuning=QUICK)
    http = Starlette(routes=[telegram_webhook_route(application, SECRET)])
    async with serving(http) as port:
        url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
        # register=False: nothing pushes; the test posts to the route as Telegram (or a load balancer) would.
        runner = await start_telegram(
            settings.model_copy(update={"webhook_url": url}),
            service,
            application=application,
            tuning=FAST,
            register=False,
        )
        try:
            yield runner, url
        finally:
            await runner.stop()


async def test_an_update_is_stored_before_telegram_gets_its_200(
    api: FakeBotApi, service: Assistant, store: Store
) -> None:
    repo = store
    application = build_application(make_settings(api), service, webhook=True, inbox=repo, inbox_tuning=QUICK)
    http = Starlette(routes=[telegram_webhook_route(application, SECRET)])
    update, _ = _question(api, 4242)
    async with serving(http) as port, httpx.AsyncClient() as client:
        url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
        response = await client.post(url, json=update, headers={SECRET_HEADER: SECRET})
    assert response.status_code == 200
    rows = await _rows(store)
    assert list(rows) == [4242] and rows[4242][0] == "pending"  # not started: stored, not yet answered


async def test_a_repeated_update_id_is_acknowledged_and_answered_once(
    api: FakeBotApi, service: Assistant, store: Store
) -> None:
    repo = store
    update, chat_id = _question(api, 77)
    async with webhook_bot(api, service, repo) as (runner, url), telegram_client() as client:
        headers = {SECRET_HEADER: SECRET}
        responses = await asyncio.gather(*(client.post(url, json=update, headers=headers) for _ in range(5)))
        assert [r.status_code for r in responses] == [200] * 5
        await api.wait_replies(chat_id)
        await _until(lambda: runner.application.update_processor.current_concurrent_updates == 0, 5, "idle")
        again = await client.post(url, json=update, headers=headers)  # Telegram retrying after a lost 200
        assert again.status_code == 200
        await asyncio.sleep(0.3)  # a second answer would come within this
    assert len(api.replies(chat_id)) == 1
    assert (await _rows(store))[77][0] == "done"


@pytest.mark.parametrize("mode", ["webhook", "polling"])
async def test_updates_a_dead_process_left_unanswered_are_answered_at_start(
    api: FakeBotApi, service: Assistant, store: Store, mode: str
) -> None:
    # What a process killed with 40 updates received but unanswered leaves behind: pending rows, leases run out.
    stored = [_question(api, 1000 + i, "12345热线是干什么的") for i in range(40)]
    past = datetime.now(UTC) - timedelta(seconds=5)
    async with store.engine.begin() as conn:
        await conn.execute(
            UPDATES.insert(),
            [
                {
                    "update_id": u["update_id"],
                    "payload": json.dumps(u, ensure_ascii=False),
                    "received_at": past,
                    "status": "pending",
                    "attempts": 1,
                    "claimed_until": past,
                }
                for u, _ in stored
            ],
        )
    repo = store
    if mode == "webhook":
        async with webhook_bot(api, service, repo):
            for _, chat_id in stored:
                await api.wait_replies(chat_id)
    else:
        settings = make_settings(api)
        application = build_application(settings, service, webhook=False, tuning=FAST, inbox=repo, inbox_tuning=QUICK)
        runner = await start_telegram(settings, service, application=application, tuning=FAST)
        try:
            for _, chat_id in stored:
                await api.wait_replies(chat_id)
        finally:
            await runner.stop()
    assert all(len(api.replies(chat_id)) == 1 for _, chat_id in stored)
    assert {status for status, _ in (await _rows(store)).values()} == {"done"}


async def test_polled_updates_are_stored_and_answered_once(api: FakeBotApi, service: Assistant, store: Store) -> None:
    repo = store
    settings = make_settings(api)
    application = build_application(settings, service, webhook=False, tuning=FAST, inbox=repo, inbox_tuning=QUICK)
    runner = await start_telegram(settings, service, application=application, tuning=FAST)
    try:
        chats = []
        for _ in range(10):
            u = tf.user()
            chat = tf.private_chat(u)
            await api.send(chat, u, "企业开办要几天")
            chats.append(chat["id"])
        for chat_id in chats:
            await api.wait_replies(chat_id)
    finally:
        await runner.stop()
    rows = await _rows(store)
    assert len(rows) == 10 and {status for status, _ in rows.values()} == {"done"}
    assert all(len(api.replies(c)) == 1 for c in chats)


async def test_a_stop_leaves_what_it_did_not_answer_in_the_inbox_for_the_next_start(
    api: FakeBotApi, service: Assistant, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = store
    updates = [_question(api, 5000 + i) for i in range(300)]
    send = api._api_sendMessage
    bot_api_back = asyncio.Event()

    async def stalled_send(params: dict[str, object]) -> object:
        await bot_api_back.wait()  # a stalled Bot API: a backlog builds up behind the updates in hand
        return await send(params)

    monkeypatch.setattr(api, "_api_sendMessage", stalled_send)
    async with webhook_bot(api, service, repo) as (runner, url), telegram_client() as client:
        responses = await post_as_telegram(client, url, [u for u, _ in updates])
        assert {r.status_code for r in responses} == {200}
        started = time.monotonic()
        bot_api_back.set()  # the Bot API recovers just as the stop comes: what is in hand can be finished
        await runner.stop()
        assert time.monotonic() - started < 10
    answered_first = {c for _, c in updates if api.replies(c)}
    rows = await _rows(store)
    assert len(rows) == 300  # every acknowledged update is in the inbox: answered, or pending
    leftover = [uid for uid, (status, _) in rows.items() if status == "pending"]
    assert leftover and answered_first  # the stop came with a backlog, and what was in hand was finished
    assert all(rows[uid][1] is None for uid in leftover)  # given back: any replica may take them at once
    monkeypatch.setattr(api, "_api_sendMessage", send)
    async with webhook_bot(api, service, repo):
        for _, chat_id in updates:
            await api.wait_replies(chat_id)
    assert all(len(api.replies(c)) == 1 for _, c in updates)  # every one answered, none twice
    assert {status for status, _ in (await _rows(store)).values()} == {"done"}
