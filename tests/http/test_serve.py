"""`python -m bot serve` as a user runs it: API only, webhook and polling modes, fail-fast start, clean stop."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from http_helpers import ANSWERED, OUT_OF_SCOPE, Receiver, client, serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot import serve as serve_module
from bot.config import Mode, Settings
from bot.service import hash_user
from intents import Engine
from knowledge.loader import KnowledgeBaseError, Problem

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456789:AAServeTestToken_abcdefghijklmnop"
BOT_USER = {"id": 123456789, "is_bot": True, "first_name": "呼市助手", "username": "hohhot_test_bot"}


def clean_env(**extra: str) -> dict[str, str]:
    """Return this environment without any of the assistant's settings (a developer's token stays out), plus extra."""
    # The engine's cache folder stays: it only makes the start faster.
    names = set(Settings.variables().values()) - {"JIEBA_CACHE_DIR"}
    env = {k: v for k, v in os.environ.items() if k not in names}
    return {**env, "PYTHONPATH": str(ROOT), "HOST": "127.0.0.1", **extra}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class FakeTelegram:
    """Just enough of the Bot API over HTTP for `serve` to start, poll, take a webhook and send replies."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.updates: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.app = Starlette(routes=[Route("/bot{token}/{method}", self.endpoint, methods=["POST", "GET"])])
        self.base_url = ""
        self.send_delay = 0.0
        """Seconds each sendMessage takes (a slow or stalled Telegram)."""

    async def endpoint(self, request: Request) -> JSONResponse:
        """Answer one Bot API call."""
        if request.path_params["token"] != TOKEN:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401)
        method = request.path_params["method"]
        if request.headers.get("content-type", "").startswith("application/json"):
            params = await request.json()
        else:
            params = dict(parse_qsl((await request.body()).decode()))
        with self.lock:
            self.calls.append((method, params))
        result: Any = True
        if method == "getMe":
            result = BOT_USER
        elif method == "getUpdates":
            offset = int(params.get("offset") or 0)
            with self.lock:
                result = [u for u in self.updates if u["update_id"] >= offset]
            if not result:
                await asyncio.sleep(0.2)
        elif method == "sendMessage":
            if self.send_delay:
                await asyncio.sleep(self.send_delay)
            chat_id = int(params["chat_id"])
            result = {
                "message_id": len(self.calls),
                "date": int(time.time()),
                "text": params.get("text", ""),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
            }
        return JSONResponse({"ok": True, "result": result})

    def called(self, method: str) -> list[dict[str, Any]]:
        """Return the parameters of every call of method."""
        with self.lock:
            return [params for name, params in self.calls if name == method]


def private_message(update_id: int, text: str, user_id: int = 5550001) -> dict[str, Any]:
    """Return a Telegram update carrying a private text message."""
    user = {"id": user_id, "is_bot": False, "first_name": "张"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"},
            "from": user,
            "text": text,
        },
    }


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    """Run the fake Bot API on 127.0.0.1."""
    fake = FakeTelegram()
    # A stalled sendMessage still in hand when the test ends is cut, not waited out for 5 s.
    with serve(fake.app, timeout_graceful_shutdown=0) as url:
        fake.base_url = url + "/bot"
        yield fake


class Server:
    """`python -m bot serve` in a subprocess, with its output collected."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.port = int(env["PORT"])
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=cwd,  # no .env there
            env=clean_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.client = client(self.url, timeout=5)
        self._output: str | None = None

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                if self.client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError("serve did not become healthy")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        """Send sig, wait for the exit, keep the output; return the exit status."""
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            self._output, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self._output, _ = self.process.communicate()
            raise AssertionError(f"serve did not stop on signal {sig}:\n{self._output}") from None
        return self.process.returncode

    def output(self) -> str:
        """Return everything the server printed (after it stopped)."""
        if self._output is None:
            self._output, _ = self.process.communicate(timeout=15)
        return self._output


@pytest.fixture
def start_serve(tmp_path: Path) -> Iterator[Any]:
    """Return a function that starts `python -m bot serve` with extra environment; all are stopped after."""
    servers: list[Server] = []

    def start(**env: str) -> Server:
        server = Server({"PORT": str(_free_port()), "RATE_LIMIT_PER_MINUTE": "1000", **env}, tmp_path)
        servers.append(server)
        server.wait_ready()
        return server

    yield start
    for server in servers:
        if server._output is None:
            server.stop()


def test_mode_follows_token_and_webhook_url() -> None:
    assert Settings().mode is Mode.API
    assert Settings(telegram_bot_token=TOKEN).mode is Mode.POLLING
    assert Settings(telegram_bot_token=TOKEN, webhook_url="https://example.org/hook").mode is Mode.WEBHOOK


def test_api_only_serves_and_stops_cleanly_on_sigterm(start_serve: Any) -> None:
    server = start_serve(LOG_FORMAT="json")
    answer = server.client.post("/v1/ask", json={"question": ANSWERED})
    assert answer.status_code == 200 and answer.json()["intent"]
    assert server.stop(signal.SIGTERM) == 0
    lines = [json.loads(line) for line in server.output().splitlines()]
    messages = [line["message"] for line in lines]
    assert any("api mode" in m for m in messages)
    assert any("Finished server process" in m for m in messages)


def test_sigint_stops_it_too(start_serve: Any) -> None:
    server = start_serve()
    assert server.stop(signal.SIGINT) == 130


def test_a_bad_port_fails_with_a_clear_message(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "bot", "serve"]
    env = clean_env(PORT="http")
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "PORT must be a whole number" in result.stderr


def test_port_in_use_fails_fast(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        command = [sys.executable, "-m", "bot", "serve"]
        env = clean_env(PORT=str(port))
        result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "failed to start" in result.stderr


def test_an_invalid_knowledge_base_fails_fast(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    problem = Problem("topics/x.yaml", "x_entry", "reply", "must not be empty")

    def broken(**options: object) -> None:
        raise KnowledgeBaseError([problem])

    monkeypatch.setattr(serve_module.Engine, "load", broken)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        assert serve_module.run(Settings(port=_free_port())) == 1
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    err = capsys.readouterr().err
    assert "knowledge base is invalid" in err and "topics/x.yaml: entry 'x_entry': field 'reply'" in err


@pytest.mark.parametrize("configured", [True, False], ids=["configured-secret", "generated-secret"])
def test_webhook_mode(start_serve: Any, fake_telegram: FakeTelegram, engine: Engine, configured: bool) -> None:
    port = _free_port()
    env = {"WEBHOOK_SECRET": "hook_secret-1234567"} if configured else {}
    server = start_serve(
        PORT=str(port),
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=fake_telegram.base_url,
        WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/webhook",
        **env,
    )
    (registered,) = fake_telegram.called("setWebhook")
    secret = registered["secret_token"]
    assert secret == "hook_secret-1234567" if configured else len(secret) >= 32
    assert registered["url"] == f"http://127.0.0.1:{port}/telegram/webhook"
    update = private_message(1, ANSWERED)
    assert server.client.post("/telegram/webhook", json=update).status_code == 403
    wrong = {"X-Telegram-Bot-Api-Secret-Token": "nope"}
    assert server.client.post("/telegram/webhook", json=update, headers=wrong).status_code == 403
    right = {"X-Telegram-Bot-Api-Secret-Token": secret}
    assert server.client.post("/telegram/webhook", json=update, headers=right).status_code == 200
    deadline = time.monotonic() + 10
    while not fake_telegram.called("sendMessage") and time.monotonic() < deadline:
        time.sleep(0.05)
    (reply,) = fake_telegram.called("sendMessage")
    assert int(reply["chat_id"]) == 5550001 and engine.ask(ANSWERED).figures[0] in reply["text"]
    assert server.client.post("/v1/ask", json={"question": OUT_OF_SCOPE}).status_code == 200
    metrics = server.client.get("/metrics").text
    assert 'hohhot_questions_total{channel="telegram"} 1.0' in metrics
    assert 'hohhot_questions_total{channel="api"} 1.0' in metrics
    assert server.stop() == 0
    output = server.output()
    assert "webhook mode" in output
    assert TOKEN not in output and secret not in output


def test_polling_mode(start_serve: Any, fake_telegram: FakeTelegram, receiver_factory: Callable[..., Receiver]) -> None:
    receiver = receiver_factory(failures=1)
    fake_telegram.updates.append(private_message(7, OUT_OF_SCOPE, user_id=5550002))
    server = start_serve(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=fake_telegram.base_url,
        ESCALATION_WEBHOOK_URL=receiver.url,
        USER_HASH_SALT="polling-salt-0123456",
    )
    deadline = time.monotonic() + 10
    while not fake_telegram.called("sendMessage") and time.monotonic() < deadline:
        time.sleep(0.05)
    (reply,) = fake_telegram.called("sendMessage")
    assert int(reply["chat_id"]) == 5550002 and "12345" in reply["text"]
    assert not fake_telegram.called("setWebhook")
    assert server.client.post("/v1/ask", json={"question": ANSWERED}).status_code == 200
    assert server.client.post("/telegram/webhook", json={}).status_code == 404  # no webhook route when polling
    receiver.wait_for(lambda r: len(r.accepted) == 1)  # the Telegram fallback, escalated after one retry
    escalated = json.loads(receiver.accepted[0][1])
    assert escalated["channel"] == "telegram" and escalated["question"] == OUT_OF_SCOPE
    assert escalated["user_hash"] == hash_user(5550002, "polling-salt-0123456")
    assert server.stop() == 0
    output = server.output()
    assert "polling mode" in output
    assert TOKEN not in output and "5550002" not in output


def test_a_rejected_token_stops_the_start(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "bot", "serve"]
    env = clean_env(
        PORT=str(_free_port()), TELEGRAM_BOT_TOKEN="42:WrongToken", TELEGRAM_BASE_URL=fake_telegram.base_url
    )
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "telegram: cannot start" in result.stderr and "failed to start" in result.stderr
    assert "WrongToken" not in result.stderr
