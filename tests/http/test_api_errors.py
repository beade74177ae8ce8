"""Every bad request gets a 400 or 413 with a JSON error that says what is wrong, never a 500; any error a handler
raises comes back in the same JSON shape."""

from __future__ import annotations

import json
import random
import socket
from collections.abc import Iterator

import pytest
from http_helpers import ANSWERED, Running, ServerFactory
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from bot.http import MAX_BODY_BYTES, ApiError


def _post(api: Running, content: bytes | str, content_type: str = "application/json") -> tuple[int, dict[str, str]]:
    response = api.client.post("/v1/ask", content=content, headers={"Content-Type": content_type})
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "message"}, body
    return response.status_code, body


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"{'question': 'x'}",
        b"question=x",
        b'{"question": "x",}',
        b"\xff\xfe\xfa",
        b"NaN",
        '{"question": "企业',
        b"[" * 16_000,
        b'{"question": "x", "deep": ' + b"[" * 8000 + b"]" * 8000 + b"}",
        b'{"question": "x", "chat_id": ' + b"9" * 5000 + b"}",
    ],
    ids=[
        "empty",
        "truncated",
        "single-quotes",
        "form",
        "trailing-comma",
        "not-utf8",
        "nan",
        "unterminated",
        "nested",
        "nested-field",
        "huge-integer",
    ],
)
def test_malformed_json_is_400(api: Running, content: bytes | str) -> None:
    status, body = _post(api, content)
    assert status == 400
    assert body["error"] == "invalid_json"
    assert "JSON" in body["message"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_a_body_not_in_utf8_is_refused(api: Running, encoding: str) -> None:
    status, body = _post(api, '{"question": "企业开办要几天"}'.encode(encoding))
    assert (status, body["error"]) == (400, "invalid_json")
    assert "UTF-8" in body["message"]


@pytest.mark.parametrize("document", ["[]", '"企业开办要几天"', "1", "null", "true", '[{"question": "x"}]'])
def test_json_that_is_not_an_object_is_400(api: Running, document: str) -> None:
    status, body = _post(api, document)
    assert (status, body["error"]) == (400, "invalid_json")


def test_missing_question_is_400(api: Running) -> None:
    status, body = _post(api, json.dumps({"q": ANSWERED}))
    assert (status, body["error"]) == (400, "missing_question")
    assert "question" in body["message"]


@pytest.mark.parametrize("value", [1, 1.5, None, True, [], ["企业开办要几天"], {"text": "x"}])
def test_non_string_question_is_400(api: Running, value: object) -> None:
    status, body = _post(api, json.dumps({"question": value}))
    assert (status, body["error"]) == (400, "invalid_question")
    assert "字符串" in body["message"]


def test_overlong_question_is_400(api: Running) -> None:
    status, body = _post(api, json.dumps({"question": "企" * 4097}, ensure_ascii=False))
    assert (status, body["error"]) == (400, "question_too_long")


@pytest.mark.parametrize("chat_id", ['"\\ud800"', '"a\\udfff b"', '"\\udc00\\ud800"'])
def test_a_chat_id_with_a_lone_surrogate_is_400_not_500(api: Running, chat_id: str) -> None:
    status, body = _post(api, '{"question": "企业开办要几天", "chat_id": ' + chat_id + "}")
    assert (status, body["error"]) == (400, "invalid_chat_id")


def test_a_question_with_a_lone_surrogate_is_still_answered(api: Running) -> None:
    response = api.client.post(
        "/v1/ask",
        content='{"question": "企业开办\\ud800要几天", "chat_id": 7}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200 and "0.5个工作日" in response.json()["figures"]


@pytest.mark.parametrize("value", [True, 1.5, [], {}, "x" * 129, float("inf"), float("nan")])
def test_bad_chat_id_is_400(api: Running, value: object) -> None:
    status, body = _post(api, json.dumps({"question": ANSWERED, "chat_id": value}))
    assert (status, body["error"]) == (400, "invalid_chat_id")


def test_body_of_exactly_16_kib_is_accepted(api: Running) -> None:
    prefix, suffix = '{"question": "企业开办要几天", "pad": "', '"}'
    pad = MAX_BODY_BYTES - len(prefix.encode()) - len(suffix)
    content = (prefix + "x" * pad + suffix).encode()
    assert len(content) == MAX_BODY_BYTES
    response = api.client.post("/v1/ask", content=content)
    assert response.status_code == 200


def test_body_over_16_kib_is_413(api: Running) -> None:
    status, body = _post(api, json.dumps({"question": "x" * MAX_BODY_BYTES}))
    assert (status, body["error"]) == (413, "body_too_large")
    assert "16 KiB" in body["message"]


def test_huge_body_is_413(api: Running) -> None:
    status, body = _post(api, b'{"question": "' + b"x" * (8 * 1024 * 1024) + b'"}')
    assert (status, body["error"]) == (413, "body_too_large")


def test_streamed_body_without_content_length_is_capped(api: Running) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"question": "'
        for _ in range(64):  # 64 KiB, chunked: no Content-Length to trust
            yield b"x" * 1024
        yield b'"}'

    response = api.client.post("/v1/ask", content=chunks())
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"


def test_understated_content_length_is_not_trusted(api: Running) -> None:
    """A client that claims 10 bytes and sends 20 KiB gets its first 10 bytes read, not the rest believed."""
    host, port = api.url.removeprefix("http://").split(":")
    body = b'{"question": "' + b"x" * 20_000 + b'"}'
    request = (
        f"POST /v1/ask HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 10\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(request)
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    status_line = reply.split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 400 Bad Request"  # the 10 bytes read are not valid JSON
    assert b'"invalid_json"' in reply


def test_bad_requests_never_500(api: Running) -> None:
    bodies = [b"{", b"[]", b'{"question": 1}', b'{"question": "x", "chat_id": false}', b"\x00" * 100]
    for content in bodies:
        assert api.client.post("/v1/ask", content=content).status_code == 400
    assert api.client.post("/v1/ask", content=b"x" * (MAX_BODY_BYTES + 1)).status_code == 413


def _random_json(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([0, -1, 2**70, 1.5, 1e308])
    if kind in (2, 3, 4):
        alphabet = "企业开办要几天😀<>&\"'\\\x00\x1f\u200b\ud7ff\ue000 aZ9"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
    if kind in (5, 6):
        keys = ["question", "chat_id", "x", ""]
        return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randrange(0, 4))}
    return [_random_json(rng, depth + 1) for _ in range(rng.randrange(0, 4))]


def test_random_bodies_get_200_or_a_json_400(api: Running) -> None:
    rng = random.Random(20261121)
    for _ in range(300):
        if rng.random() < 0.2:
            content = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 64)))
        else:
            content = json.dumps(_random_json(rng), ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
        response = api.client.post("/v1/ask", content=content)
        assert response.status_code in (200, 400), (content, response.text)
        body = response.json()
        assert ("answer" in body) if response.status_code == 200 else ("error" in body and "message" in body)


async def _crash(request: Request) -> Response:
    raise RuntimeError("a bug")


async def _teapot(request: Request) -> Response:
    raise HTTPException(418)


async def _refuse(request: Request) -> Response:
    raise ApiError(409, "conflict", "冲突。", {"X-Reason": "test"})


async def _cut_off(request: Request) -> Response:
    raise ClientDisconnect


_RAISING = {"crash": _crash, "teapot": _teapot, "refuse": _refuse, "cut-off": _cut_off}


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("/boom/crash", 500, "internal_error"),
        ("/boom/teapot", 418, "http_error"),
        ("/boom/refuse", 409, "conflict"),
        ("/boom/cut-off", 400, "client_disconnected"),
    ],
)
def test_an_error_raised_in_any_handler_is_json_and_counted(
    start_server: ServerFactory, path: str, status: int, error: str
) -> None:
    """A route the app does not know of (mounted like Telegram's) gets the same error shape and metrics."""
    routes = [Route(f"/{name}", endpoint) for name, endpoint in _RAISING.items()]
    server = start_server(telegram_route=Mount("/boom", routes=routes))
    # Connection: close, as Starlette re-raises a 500's exception to the server, which then drops the connection.
    response = server.client.get(path, headers={"Connection": "close"})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json().keys() == {"error", "message"} and response.json()["error"] == error
    assert "a bug" not in response.text
    metrics = server.client.get("/metrics").text
    assert f'hohhot_http_responses_total{{route="{path}",status="{status}"}} 1.0' in metrics
