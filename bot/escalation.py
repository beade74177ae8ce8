"""Hand questions the assistant could not answer to people: deliver the store's outbox to a webhook."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import random
from collections.abc import Callable
from datetime import timedelta

import httpx

from bot.store import OutboxItem, Store, utcnow

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Escalation-Signature"
"""`sha256=<hex>`: HMAC-SHA256 of the exact request body with ESCALATION_WEBHOOK_SECRET."""
IDEMPOTENCY_HEADER = "Idempotency-Key"
"""The escalation's id, the same on every attempt: receivers drop repeats they have already seen."""
USER_AGENT = "hohhot-assistant-escalation/1"
_RETRY_STATUSES = frozenset({408, 425, 429})
FLUSH_SECONDS = 0.02


def sign(body: bytes, secret: str) -> str:
    """Return the signature header value for a body: `sha256=` and the hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Dispatcher:
    """Deliver the store's outbox to the escalation webhook: several in flight, each item from its own state.

    Items are claimed with a lease (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so each replica takes different
    ones); a failed attempt is retried with exponential backoff and jitter, or after the receiver's
    `Retry-After`; a permanent refusal (4xx other than 408/425/429) or the last attempt parks the item as dead.
    Every attempt carries the same Idempotency-Key and signature. An item whose process died is retaken when its
    lease runs out, so nothing pending is lost to a crash.
    """

    def __init__(
        self,
        store: Store,
        url: str,
        *,
        secret: str | None = None,
        concurrency: int = 8,
        max_attempts: int = 8,
        backoff: float = 0.5,
        max_backoff: float = 300.0,
        timeout: float = 10.0,
        lease_seconds: float | None = None,
        poll_seconds: float = 2.0,
        on_result: Callable[[str], None] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.store = store
        self.url = url
        self._secret = secret
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._timeout = timeout
        # Long enough for a claimed item to wait its turn and be sent (two timeouts), short enough that items a
        # killed process had claimed are soon taken again.
        self.lease_seconds = lease_seconds if lease_seconds is not None else timeout * 2 + 5
        self.poll_seconds = poll_seconds
        self._on_result = on_result
        self._transport = transport
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._delivered: list[str] = []
        """Delivered ids not yet marked: written together, at most FLUSH_SECONDS later."""
        self._worker: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _count(self, result: str) -> None:
        if self._on_result is not None:
            self._on_result(result)

    def wake(self) -> None:
        """Look at the outbox now (a new item was recorded); safe from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    async def start(self) -> None:
        """Start delivering on the running event loop."""
        if self._worker is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._client = httpx.AsyncClient(
            timeout=self._timeout,
            transport=self._transport,
            headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(max_connections=self.concurrency),
        )
        self._worker = asyncio.create_task(self._run(), name="escalation-dispatcher")
        logger.info("escalation webhook enabled (%d in flight, up to %d attempts)", self.concurrency, self.max_attempts)

    async def stop(self, drain_seconds: float = 5.0) -> None:
        """Stop taking items, let those in flight finish for up to drain_seconds, then cancel the rest: an
        unfinished item stays pending and is taken again once its lease runs out (same Idempotency-Key)."""
        if self._worker is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._worker), drain_seconds)
        except TimeoutError:
            logger.warning("escalation: stopping with deliveries in flight; they stay pending")
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        self._worker = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        """Claim due items in batches into a local queue; `concurrency` senders drain it."""
        queue: asyncio.Queue[OutboxItem] = asyncio.Queue()
        senders = [asyncio.create_task(self._send_from(queue)) for _ in range(self.concurrency)]
        try:
            while not self._stopping.is_set():
                claimed = 0
                if queue.qsize() < self.concurrency:
                    try:
                        batch = await self.store.claim_outbox(
                            limit=self.concurrency * 2, lease_seconds=self.lease_seconds
                        )
                    except Exception as exc:  # the database is down: try again later
                        logger.warning("escalation: cannot read the outbox (%s)", type(exc).__name__)
                        batch = []
                    for item in batch:
                        queue.put_nowait(item)
                    claimed = len(batch)
                if claimed:
                    await self._settled(queue)  # room for the next batch
                    continue
                await self._flush()
                self._wake.clear()
                waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(self._stopping.wait())]
                try:
                    await asyncio.wait(waiters, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiter in waiters:
                        waiter.cancel()
            await queue.join()  # stopping: deliver what was claimed (stop() bounds the wait)
        finally:
            await self._flush()
            for sender in senders:
                sender.cancel()
            await asyncio.gather(*senders, return_exceptions=True)

    async def _settled(self, queue: asyncio.Queue[OutboxItem]) -> None:
        """Wait until the local queue runs low (or we are stopping), marking deliveries meanwhile."""
        while queue.qsize() >= self.concurrency and not self._stopping.is_set():
            await asyncio.sleep(FLUSH_SECONDS)
            await self._flush()

    async def _flush(self) -> None:
        """Mark the delivered items in one statement (an unmarked one would only be sent again, same key)."""
        if not self._delivered:
            return
        ids, self._delivered = self._delivered, []
        try:
            await self.store.outbox_delivered(*ids)
        except Exception as exc:
            logger.warning("escalation: cannot mark %d delivered item(s) (%s)", len(ids), type(exc).__name__)
            self._delivered.extend(ids)

    async def _send_from(self, queue: asyncio.Queue[OutboxItem]) -> None:
        while True:
            item = await queue.get()
            try:
                await self._attempt(item)
            finally:
                queue.task_done()

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), self.max_backoff)
            except ValueError:
                pass
        delay: float = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
        return delay * random.uniform(0.8, 1.2)  # jitter: replicas that failed together do not retry together

    async def _attempt(self, item: OutboxItem) -> None:
        try:
            await self.deliver(item)
        except asyncio.CancelledError:
            raise
        except Exception:  # the dispatcher must outlive any one bad delivery
            logger.exception("escalation %s: unexpected error", item.id)

    async def deliver(self, item: OutboxItem) -> bool:
        """Make one attempt at an item and record its result; return True when it was delivered."""
        assert self._client is not None
        body = item.payload.encode("utf-8")
        headers = {"Content-Type": "application/json", IDEMPOTENCY_HEADER: item.id}
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(body, self._secret)
        attempt = item.attempts + 1
        retry_after: str | None = None
        try:
            response = await self._client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            problem = type(exc).__name__
        else:
            if response.is_success:
                self._delivered.append(item.id)
                logger.info("escalation %s delivered (attempt %d)", item.id, attempt)
                self._count("delivered")
                return True
            problem = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code not in _RETRY_STATUSES:
                logger.warning("escalation %s refused with %s; not retried", item.id, problem)
                await self.store.outbox_failed(item.id, error=problem, retry_at=None)
                self._count("failed")
                return False
            retry_after = response.headers.get("Retry-After")
        if attempt >= self.max_attempts:
            logger.warning("escalation %s: giving up after %d attempts (%s)", item.id, attempt, problem)
            await self.store.outbox_failed(item.id, error=problem, retry_at=None)
            self._count("failed")
            return False
        delay = self._delay(attempt, retry_after)
        logger.info("escalation %s: attempt %d failed (%s), retrying in %.1fs", item.id, attempt, problem, delay)
        await self.store.outbox_failed(item.id, error=problem, retry_at=utcnow() + timedelta(seconds=delay))
        self._count("retried")
        if delay < self.poll_seconds:
            asyncio.get_running_loop().call_later(delay, self._wake.set)
        return False
