"""uvicorn's HTTP/1.1 protocol with a deadline for request heads, and JSON for requests it cannot parse.

uvicorn closes a keep-alive connection left idle after a response (`timeout_keep_alive`), but a client that
connects and sends nothing, or sends half a request line and stops, would hold its connection forever. This
protocol arms a timer whenever it waits for a request's head (on connect, and again when a response is done)
and, when it fires, answers 408 with the API's JSON error shape and closes; a request h11 cannot parse gets a
JSON 400 instead of uvicorn's plain text. The body's own deadline is enforced where the body is read
(`bot.http.app.read_body`).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_SECONDS = 10.0
"""Default time a client has to send a whole request head (line and headers)."""


def _json_response(status: int, reason: str, error: str, message: str) -> bytes:
    """Return a whole HTTP/1.1 response in the API's error shape that closes the connection."""
    body = json.dumps({"error": error, "message": message}, ensure_ascii=False).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "content-type: application/json\r\n"
        "x-content-type-options: nosniff\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    ).encode()
    return head + body


class GuardedH11Protocol(H11Protocol):
    """H11Protocol that closes connections whose request head does not arrive within `header_timeout` seconds."""

    header_timeout: float = HEADER_TIMEOUT_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None

    def _waiting_for_head(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        if self._head_timer is None and self._waiting_for_head():
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock for the first request's head."""
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        """Feed h11; stop the clock once a request head has been parsed."""
        super().data_received(data)
        if not self._waiting_for_head():
            self._disarm()

    def on_response_complete(self) -> None:
        """After each response the next request's head is awaited: restart the clock."""
        super().on_response_complete()
        self._disarm()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the timer with the connection."""
        self._disarm()
        super().connection_lost(exc)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or not self._waiting_for_head():
            return
        self.logger.info("closing a connection whose request head did not arrive in %.0fs", self.header_timeout)
        self.transport.write(
            _json_response(408, "Request Timeout", "request_timeout", "请求发送太慢，连接已关闭，请重试。")
        )
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        """Answer a request h11 cannot parse with the API's JSON error shape instead of uvicorn's plain text."""
        self._disarm()
        self.transport.write(_json_response(400, "Bad Request", "invalid_http", "无法解析的 HTTP 请求。"))
        self.transport.close()
