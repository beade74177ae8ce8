"""Hand questions the assistant could not answer to people: POST them to a webhook from a bounded queue."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.service import AskEvent
from intents import Outcome

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Escalation-Signature"
"""`sha256=<hex>`: HMAC-SHA256 of the exact request body with ESCALATION_WEBHOOK_SECRET."""
IDEMPOTENCY_HEADER = "Idempotency-Key"
"""The escalation's id, the same on every attempt: receivers drop repeats they have already seen."""
USER_AGENT = "hohhot-assistant-escalation/1"
_RETRY_STATUSES = frozenset({408, 425, 429})


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Escalation:
    """One question that fell back, as sent to the webhook: no raw user id, only its salted hash."""

    id: str
    question: str
    channel: str
    asked_at: float
    user_hash: str | None

    @classmethod
    def from_event(cls, event: AskEvent) -> Escalation:
        """Return the escalation of one fallen-back question, with a fresh id."""
        return cls(
            id=uuid.uuid4().hex,
            question=event.answer.question,
            channel=event.channel,
            asked_at=event.asked_at,
            user_hash=event.user_hash,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON body sent to the webhook."""
        return {
            "id": self.id,
            "type": "fallback",
            "question": self.question,
            "channel": self.channel,
            "time": _iso(self.asked_at),
            "user_hash": self.user_hash,
        }

    def body(self) -> bytes:
        """Return the exact bytes posted (and signed)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()


def sign(body: bytes, secret: str) -> str:
    """Return the signature header value for a body: `sha256=` and the hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Escalator:
    """Queue fallen-back questions and deliver each once, with retries and exponential backoff, off the reply path."""

    def __init__(
        self,
        url: str,
        *,
        secret: str | None = None,
        queue_size: int = 1000,
        max_attempts: int = 6,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        timeout: float = 10.0,
        drain_timeout: float = 5.0,
        on_result: Callable[[str], None] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self._secret = secret
        self._queue_size = queue_size
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._timeout = timeout
        self.drain_timeout = drain_timeout
        self._on_result = on_result
        self._transport = transport
        self._queue: asyncio.Queue[Escalation] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._worker: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    @property
    def pending(self) -> int:
        """Return how many escalations wait in the queue."""
        return self._queue.qsize() if self._queue is not None else 0

    def _count(self, result: str) -> None:
        if self._on_result is not None:
            self._on_result(result)

    async def start(self) -> None:
        """Start the background worker on the running event loop."""
        if self._worker is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._queue = asyncio.Queue(self._queue_size)
        self._client = httpx.AsyncClient(
            timeout=self._timeout, transport=self._transport, headers={"User-Agent": USER_AGENT}
        )
        self._worker = asyncio.create_task(self._run(), name="escalation-worker")
        logger.info(
            "escalation webhook enabled (queue size %d, up to %d attempts)", self._queue_size, self.max_attempts
        )

    async def stop(self, drain_timeout: float | None = None) -> None:
        """Deliver what is queued for up to drain_timeout seconds (default: the constructor's), then stop."""
        if self._worker is None or self._queue is None:
            return
        try:
            await asyncio.wait_for(
                self._queue.join(), self.drain_timeout if drain_timeout is None else drain_timeout
            )
        except TimeoutError:
            logger.warning("escalation: stopping with %d queued question(s) undelivered", self._queue.qsize())
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        self._worker = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def observe(self, event: AskEvent) -> None:
        """Queue a question that fell back (an AskService observer); never blocks, drops when the queue is full."""
        if event.answer.outcome is not Outcome.FALLBACK:
            return
        if self._loop is None or self._loop.is_closed():
            logger.warning("escalation: worker not running, one fallback question not escalated")
            self._count("dropped")
            return
        escalation = Escalation.from_event(event)
        if threading.get_ident() == self._loop_thread:
            self._enqueue(escalation)
        else:  # asked from a worker thread: asyncio queues belong to their loop
            self._loop.call_soon_threadsafe(self._enqueue, escalation)

    def _enqueue(self, escalation: Escalation) -> None:
        assert self._queue is not None
        try:
            self._queue.put_nowait(escalation)
        except asyncio.QueueFull:
            logger.warning("escalation queue full (%d waiting): one fallback question dropped", self._queue.qsize())
            self._count("dropped")
            return
        self._count("queued")

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            escalation = await self._queue.get()
            try:
                await self.deliver(escalation)
            except Exception:  # the worker must outlive any one bad delivery
                logger.exception("escalation %s: unexpected error", escalation.id)
                self._count("failed")
            finally:
                self._queue.task_done()

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), self.max_backoff)
            except ValueError:
                pass
        delay: float = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
        return delay * random.uniform(0.8, 1.2)  # jitter: replicas that failed together do not retry together

    async def deliver(self, escalation: Escalation) -> bool:
        """POST one escalation until a 2xx answer, a permanent refusal or max_attempts; return True if delivered."""
        assert self._client is not None
        body = escalation.body()
        headers = {"Content-Type": "application/json", IDEMPOTENCY_HEADER: escalation.id}
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(body, self._secret)
        for attempt in range(1, self.max_attempts + 1):
            retry_after: str | None = None
            try:
                response = await self._client.post(self.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                problem = type(exc).__name__
            else:
                if response.is_success:
                    logger.info("escalation %s delivered (attempt %d)", escalation.id, attempt)
                    self._count("delivered")
                    return True
                if response.status_code < 500 and response.status_code not in _RETRY_STATUSES:
                    logger.warning(
                        "escalation %s refused with HTTP %d; not retried", escalation.id, response.status_code
                    )
                    self._count("failed")
                    return False
                problem = f"HTTP {response.status_code}"
                retry_after = response.headers.get("Retry-After")
            if attempt == self.max_attempts:
                break
            delay = self._delay(attempt, retry_after)
            logger.info(
                "escalation %s: attempt %d failed (%s), retrying in %.1fs", escalation.id, attempt, problem, delay
            )
            self._count("retried")
            await asyncio.sleep(delay)
        logger.warning("escalation %s: giving up after %d attempts", escalation.id, self.max_attempts)
        self._count("failed")
        return False
