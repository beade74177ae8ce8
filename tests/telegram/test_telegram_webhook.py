"""POST /telegram/webhook over real HTTP: the secret is checked, bad bodies refused, updates queued at once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import telegram_factories as tf
from bot_harness import SECRET, RunningBot, make_settings
from fake_bot_api import FakeBotApi, serving
from starlette.applications import Starlette
from telegram import Update

from bot.service import Assistant
from bot.telegram import SECRET_HEADER, WEBHOOK_PATH, TelegramApplication, build_application, telegram_webhook_route
from intents import Engine


@pytest.fixture
async def route_app(api: FakeBotApi, service: Assistant) -> AsyncIterator[tuple[TelegramApplication, str]]:
    """Serve only the webhook route, for an application that is not started (updates stay on its queue)."""
    application = build_application(make_settings(api), service, webhook=True)
    app = Starlette(routes=[telegram_webhook_route(application, SECRET)])
    async with serving(app) as port:
        yield application, f"http://127.0.0.1:{port}{WEBHOOK_PATH}"


def _update(update_id: int = 1) -> dict[str, object]:
    u = tf.user()
    return {"update_id": update_id, "message": tf.message(tf.private_chat(u), 1, sender=u, text="企业开办要几天")}


async def test_the_right_secret_queues_the_update(route_app: tuple[TelegramApplication, str]) -> None:
    application, url = route_app
    async with httpx.AsyncClient() as client:
        response = await client.post(url, json=_update(42), headers={SECRET_HEADER: SECRET})
    assert response.status_code == 200
    update = application.update_queue.get_nowait()
    assert isinstance(update, Update) and update.update_id == 42
    assert update.message is not None and update.message.text == "企业开办要几天"


@pytest.mark.parametrize(
    "headers", [{}, {SECRET_HEADER: "wrong-secret"}, {SECRET_HEADER: SECRET + "x"}, {SECRET_HEADER: ""}]
)
async def test_a_wrong_or_missing_secret_is_forbidden(
    route_app: tuple[TelegramApplication, str], headers: dict[str, str]
) -> None:
    application, url = route_app
    async with httpx.AsyncClient() as client:
        response = await client.post(url, json=_update(), headers=headers)
    assert response.status_code == 403
    assert application.update_queue.empty()


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b'"text"',
        b'{"message": {}}',
        b'{"update_id": "1"}',
        b'{"update_id": 1, "message": "hello"}',
        b'{"update_id": 1, "message": 5}',
        b'{"update_id": 1, "callback_query": []}',
        b"[" * 50_000,
    ],
)
async def test_a_body_that_is_not_an_update_is_refused(route_app: tuple[TelegramApplication, str], body: bytes) -> None:
    application, url = route_app
    async with httpx.AsyncClient() as client:
        response = await client.post(
            url, content=body, headers={SECRET_HEADER: SECRET, "content-type": "application/json"}
        )
    assert response.status_code == 400
    assert "error" in response.json()
    assert application.update_queue.empty()


async def test_a_body_over_the_cap_without_a_length_is_413(route_app: tuple[TelegramApplication, str]) -> None:
    application, url = route_app

    async def endless() -> AsyncIterator[bytes]:  # no Content-Length: only the streamed size can stop it
        chunk = b" " * 65536
        for _ in range(4096):  # 256 MiB if the server kept reading
            yield chunk

    async with httpx.AsyncClient() as client:
        response = await client.post(url, content=endless(), headers={SECRET_HEADER: SECRET})
    assert response.status_code == 413
    assert application.update_queue.empty()


async def test_only_post_is_allowed(route_app: tuple[TelegramApplication, str]) -> None:
    _, url = route_app
    async with httpx.AsyncClient() as client:
        response = await client.get(url, headers={SECRET_HEADER: SECRET})
    assert response.status_code == 405


def test_a_route_without_a_secret_is_refused(api: FakeBotApi, service: Assistant) -> None:
    application = build_application(make_settings(api), service, webhook=True)
    with pytest.raises(ValueError, match="secret"):
        telegram_webhook_route(application, "")


@pytest.mark.parametrize("bot", ["webhook"], indirect=True)
async def test_telegram_pushes_with_the_secret_and_the_bot_answers(bot: RunningBot, engine: Engine) -> None:
    api = bot.api
    assert api.webhook == {"url": bot.settings.webhook_url, "secret_token": SECRET}
    u = tf.user()
    chat = tf.private_chat(u)
    await api.send(chat, u, "企业开办要几天")
    [reply] = await api.wait_replies(chat["id"])
    assert reply.text.startswith(engine.ask("企业开办要几天").reply)
    assert api.webhook_deliveries and set(api.webhook_deliveries) == {200}


@pytest.mark.parametrize("bot", ["webhook"], indirect=True)
async def test_updates_posted_with_a_wrong_secret_are_not_answered(bot: RunningBot) -> None:
    api = bot.api
    u = tf.user()
    chat = tf.private_chat(u)
    api.chats[chat["id"]] = chat
    update = {"update_id": 9999, "message": tf.message(chat, 1, sender=u, text="企业开办要几天")}
    url = f"http://127.0.0.1:{bot.webhook_port}{WEBHOOK_PATH}"
    async with httpx.AsyncClient() as client:
        forged = await client.post(url, json=update, headers={SECRET_HEADER: "guessed"})
        missing = await client.post(url, json=update)
    assert (forged.status_code, missing.status_code) == (403, 403)
    await bot.idle()
    assert api.replies(chat["id"]) == []
