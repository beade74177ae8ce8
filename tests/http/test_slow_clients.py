"""Slow and lying clients: no request head, half a head, a body shorter than it claims, an idle keep-alive."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest
from http_helpers import serve

import bot.http.app as http_app
from bot.config import Settings
from bot.http import create_app
from bot.http.protocol import GuardedH11Protocol
from bot.service import Assistant
from intents import Engine

HEAD_TIMEOUT = 0.5
BODY_TIMEOUT = 0.5
KEEP_ALIVE = 1


class QuickGuard(GuardedH11Protocol):
    header_timeout = HEAD_TIMEOUT


@pytest.fixture
def address(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, int]]:
    monkeypatch.setattr(http_app, "BODY_TIMEOUT_SECONDS", BODY_TIMEOUT)
    app = create_app(Assistant(engine, salt="test-salt"), Settings(rate_limit_per_minute=100_000))
    with serve(app, http=QuickGuard, timeout_keep_alive=KEEP_ALIVE) as url:
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


def _connect(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=10)
    return sock


def _read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Read everything the server sends until it closes; return it and how long the close took."""
    start = time.monotonic()
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data, time.monotonic() - start


def _status_and_json(raw: bytes) -> tuple[int, dict[str, str]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_a_connection_that_sends_nothing_is_closed_with_408(address: tuple[str, int]) -> None:
    with _connect(address) as sock:
        raw, waited = _read_until_closed(sock)
    status, body = _status_and_json(raw)
    assert status == 408 and body["error"] == "request_timeout"
    assert waited < 5


def test_half_a_request_head_is_cut_off(address: tuple[str, int]) -> None:
    with _connect(address) as sock:
        sock.sendall(b"POST /v1/ask HTTP/1.1\r\nHost: x\r\nContent-Ty")
        raw, waited = _read_until_closed(sock)
    assert _status_and_json(raw)[0] == 408
    assert waited < 5


def test_a_body_shorter_than_its_content_length_gets_408_json(address: tuple[str, int]) -> None:
    with _connect(address) as sock:
        sock.sendall(
            b"POST /v1/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            b'{"question": "'
        )
        raw, waited = _read_until_closed(sock)
    status, body = _status_and_json(raw)
    assert status == 408 and body["error"] == "request_timeout" and "请求体" in body["message"]
    assert waited < 5


def test_an_idle_keep_alive_connection_is_closed_after_a_response(address: tuple[str, int]) -> None:
    body = json.dumps({"question": "企业开办要几天"}).encode()
    request = (
        b"POST /v1/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    with _connect(address) as sock:
        sock.sendall(request)
        raw, waited = _read_until_closed(sock)
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and "0.5个工作日" in rest.decode()
    assert waited < 5  # closed by the keep-alive limit, not left open


def test_a_prompt_client_is_unaffected(address: tuple[str, int]) -> None:
    body = json.dumps({"question": "企业开办要几天"}).encode()
    request = (
        b"POST /v1/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    with _connect(address) as sock:
        for _ in range(3):  # three requests on one connection, each well inside the deadlines
            sock.sendall(request)
            reply = b""
            while b"0.5" not in reply or not reply.endswith(b"}"):
                reply += sock.recv(65536)
            assert reply.startswith(b"HTTP/1.1 200")


def test_an_unparsable_request_gets_a_json_400(address: tuple[str, int]) -> None:
    with _connect(address) as sock:
        sock.sendall(b"GARBAGE\x00\x01 / HTTP/9\r\n\r\n")
        raw, _ = _read_until_closed(sock)
    status, body = _status_and_json(raw)
    assert status == 400 and body["error"] == "invalid_http"
