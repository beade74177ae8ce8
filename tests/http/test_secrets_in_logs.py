"""No token, API key, webhook secret or raw user id reaches the logs (text or JSON lines) or an error response."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from http_helpers import ANSWERED, OUT_OF_SCOPE, Receiver, client, serve

from bot.config import Settings
from bot.escalation import Dispatcher
from bot.http import create_app
from bot.logging_setup import REDACTED, RedactFilter, configure_logging
from bot.service import Assistant
from bot.store import Store
from intents import Engine

TOKEN = "123456789:AAHfakeTokenForTests_0123456789abcdef"
API_KEY = "api-key-4d7e1c9a0b2f"
WEBHOOK_SECRET = "webhook-secret-9f8e7d6c"
ESCALATION_SECRET = "escalation-secret-1a2b3c4d"
SALT = "salt-6e5d4c3b2a1f"
CHAT_ID = 424242424242
SECRETS = (TOKEN, API_KEY, WEBHOOK_SECRET, ESCALATION_SECRET, SALT)


def _settings(log_format: str) -> Settings:
    return Settings(
        telegram_bot_token=TOKEN,
        webhook_secret=WEBHOOK_SECRET,
        api_keys=(API_KEY, "second-key-000000"),
        escalation_webhook_secret=ESCALATION_SECRET,
        user_hash_salt=SALT,
        log_format=log_format,
        log_level="DEBUG",
        rate_limit_per_minute=1000,
    )


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the root logger and the quietened library loggers back as they were."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "uvicorn.access")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def test_filter_redacts_message_args_traceback_and_stack() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactFilter([TOKEN, API_KEY]))
    logger = logging.getLogger("tests.redact")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("GET https://api.telegram.org/bot%s/getMe", TOKEN)
        logger.warning(f"key {API_KEY} in an f-string", stack_info=True)
        try:
            raise RuntimeError(f"request to /bot{TOKEN}/sendMessage failed")
        except RuntimeError:
            logger.exception("send failed")
        logger.warning("bad format %s %s", TOKEN)  # a broken call must still be logged, redacted
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    output = stream.getvalue()
    assert TOKEN not in output and API_KEY not in output
    assert output.count(REDACTED) >= 4
    assert "RuntimeError" in output


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_secret_in_logs_or_responses(
    engine: Engine,
    receiver_factory: Callable[..., Receiver],
    restore_logging: None,
    log_format: str,
    data_dir: Path,
) -> None:
    stream = io.StringIO()
    settings = _settings(log_format)
    configure_logging(settings, stream=stream)
    receiver = receiver_factory(failures=1)
    store = Store.from_settings(data_dir, None)
    dispatcher = Dispatcher(store, receiver.url, secret=ESCALATION_SECRET, backoff=0.01, max_backoff=0.02)
    service = Assistant(engine, store=store, salt=SALT, escalate=True, on_escalation=dispatcher.wake)
    app = create_app(service, settings, dispatcher=dispatcher)
    seen: list[httpx.Response] = []
    with serve(app) as url, client(url) as http:
        good = {"Authorization": f"Bearer {API_KEY}"}
        seen.append(http.post("/v1/ask", json={"question": ANSWERED, "chat_id": CHAT_ID}, headers=good))
        seen.append(http.post("/v1/ask", json={"question": OUT_OF_SCOPE, "chat_id": CHAT_ID}, headers=good))
        for wrong in (f"Bearer {API_KEY}x", f"Bearer {TOKEN}", f"Basic {WEBHOOK_SECRET}", API_KEY):
            seen.append(http.get("/v1/topics", headers={"Authorization": wrong}))
        seen.append(http.post("/v1/ask", content=f'{{"question": "{API_KEY}'.encode(), headers=good))
        seen.append(http.post("/v1/ask", json={"question": ANSWERED, "chat_id": TOKEN * 4}, headers=good))
        seen.append(http.get(f"/v1/entries/{WEBHOOK_SECRET}", headers=good))
        seen.append(http.get("/openapi.json"))
        seen.append(http.get("/metrics"))
        receiver.wait_for(lambda r: len(r.accepted) == 1)
        # Libraries log what they like: python-telegram-bot's httpx requests carry the token in the URL.
        logging.getLogger("httpx").info('HTTP Request: POST https://api.telegram.org/bot%s/getUpdates "200"', TOKEN)
        logging.getLogger("bot.telegram").debug("secret header %s, salt %s", WEBHOOK_SECRET, SALT)
    logs = stream.getvalue()
    assert logs, "the server logged nothing"
    if log_format == "json":
        records = [json.loads(line) for line in logs.splitlines()]
        assert {"time", "level", "logger", "message"} <= set(records[0])
    for secret in SECRETS:
        assert secret not in logs, f"a secret reached the {log_format} logs"
        for response in seen:
            assert secret not in response.text and secret not in str(response.headers)
    assert str(CHAT_ID) not in logs
    assert REDACTED in logs
    assert all(response.status_code < 500 for response in seen)
