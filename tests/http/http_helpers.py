"""Helpers of the HTTP server tests: run an ASGI app with uvicorn on 127.0.0.1, and a webhook receiver."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fakes.servers import PromptServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.service import Assistant

ANSWERED = "企业开办要几天"
OUT_OF_SCOPE = "今天天气怎么样"


def client(url: str, timeout: float = 10.0) -> httpx.Client:
    """Return an HTTP client for a test server, ignoring any proxy settings of the environment."""
    return httpx.Client(base_url=url, timeout=timeout, trust_env=False)


@contextmanager
def serve(app: Any, **options: Any) -> Iterator[str]:
    """Run an ASGI app with uvicorn in a thread on a free loopback port; yield its base URL, stop on exit."""
    # proto=IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY on accepted connections only for sockets that
    # say they are TCP, and without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    options = {"log_config": None, "access_log": False, "lifespan": "on", "timeout_graceful_shutdown": 5, **options}
    config = uvicorn.Config(app, **options)
    server = PromptServer(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        thread.join(15)
        sock.close()
        assert not thread.is_alive(), "test server did not stop"


@dataclass
class Running:
    """A started API server: its URL, app and service, and a client bound to it."""

    url: str
    app: Starlette
    service: Assistant
    client: httpx.Client


ServerFactory = Callable[..., Running]


@dataclass
class Receiver:
    """A webhook receiver that fails its first `failures` requests with `status` (500), then accepts; records all."""

    failures: int = 0
    status: int = 500
    delay: float = 0.0
    attempts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    accepted: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def endpoint(self, request: Request) -> Response:
        """Record one delivery attempt and fail or accept it."""
        body = await request.body()
        headers = dict(request.headers)
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.attempts.append((headers, body))
            if len(self.attempts) <= self.failures:
                return JSONResponse({"error": "refused"}, status_code=self.status)
            self.accepted.append((headers, body))
        return JSONResponse({"ok": True})

    def wait_for(self, predicate: Callable[[Receiver], bool], timeout: float = 10.0) -> None:
        """Wait until predicate holds, failing the test after timeout seconds."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver: condition not met in {timeout}s ({len(self.attempts)} attempts)")
            time.sleep(0.01)
