"""Telegram updates exactly once: every update is stored (keyed by update_id) before it is acknowledged.

The Application's own `update_queue` is the one door: the webhook route and PTB's polling Updater both `put`
updates on it. `InboxQueue.put` first inserts the update into the store's inbox (insert-or-ignore): a new
update goes on to the handlers, a repeated update_id is dropped. The webhook answers 200 and the Updater asks
Telegram for the next batch (which acknowledges this one) only after that put returned, so nothing Telegram
considers delivered lives only in memory. `InboxProcessor` marks an update done once its handlers ran; updates
stored but never marked done (the process died) are claimed again under a lease, at start and every few
seconds, so one replica answers each of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol

from telegram import Bot, Update

from bot.store import StoredUpdate

logger = logging.getLogger(__name__)


class UpdateInbox(Protocol):
    """The store's side of the inbox."""

    async def accept_update(self, update: StoredUpdate, *, lease_seconds: float) -> bool:
        """Insert an update claimed by the caller under a lease; return False if its update_id was already stored."""
        ...

    async def update_done(self, update_id: int) -> None:
        """Mark an update answered."""
        ...

    async def claim_stale_updates(self, limit: int, *, lease_seconds: float) -> list[StoredUpdate]:
        """Claim pending updates whose lease is free or expired, oldest first."""
        ...

    async def release_updates(self, update_ids: list[int]) -> None:
        """Free the lease of updates taken but not started, so any replica may take them now."""
        ...


@dataclass(frozen=True, slots=True)
class InboxTuning:
    """Leases and sweeps of the inbox."""

    lease_seconds: float = 20.0
    """How long an update taken by one process is left to it before another may answer it."""
    sweep_seconds: float = 2.0
    """How often to look for updates whose lease ran out (a replica died holding them)."""
    sweep_batch: int = 200


class InboxQueue(asyncio.Queue[object]):
    """The Application's update queue, storing each update before it is queued and dropping repeats."""

    def __init__(self, inbox: UpdateInbox, tuning: InboxTuning | None = None) -> None:
        super().__init__()
        self.inbox = inbox
        self.tuning = tuning or InboxTuning()
        self.duplicates = 0
        self.store_failures = 0
        self.closing = False
        """Set at shutdown: updates not yet started are left pending in the inbox instead of being handled."""
        self.in_hand: set[int] = set()
        """Updates this process took (stored or reclaimed) and has not finished."""

    async def put(self, item: object) -> None:
        """Store an Update, then queue it unless its update_id was seen before; pass anything else through."""
        if isinstance(item, Update):
            stored = StoredUpdate(item.update_id, json.dumps(item.to_dict(), ensure_ascii=False))
            try:
                fresh = await self.inbox.accept_update(stored, lease_seconds=self.tuning.lease_seconds)
            except Exception:
                # The store is down: answer anyway (degraded, a repeat may then be answered twice).
                self.store_failures += 1
                logger.exception("telegram inbox: storing update %d failed; answering it unrecorded", item.update_id)
                fresh = True
            if not fresh:
                self.duplicates += 1
                logger.info("telegram update %d was already received; not answered again", item.update_id)
                return
            self.in_hand.add(item.update_id)
        await super().put(item)

    async def requeue(self, update: Update) -> None:
        """Queue an update already stored and claimed (one left unanswered by a process that died)."""
        self.in_hand.add(update.update_id)
        await super().put(update)

    async def handle(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run an update's handlers, then mark it done; when closing, leave it pending for the next start."""
        if not isinstance(update, Update):
            await coroutine
            return
        if self.closing:
            if inspect.iscoroutine(coroutine):
                coroutine.close()
            return
        await coroutine
        self.in_hand.discard(update.update_id)
        try:
            await self.inbox.update_done(update.update_id)
        except Exception:  # it is answered; at worst it is answered again after the lease
            logger.exception("telegram inbox: could not mark update %d done", update.update_id)

    async def give_back(self) -> int:
        """Free the leases of every update taken and not finished, so any replica may answer it now."""
        unfinished = sorted(self.in_hand)
        self.in_hand.clear()
        if unfinished:
            await self.inbox.release_updates(unfinished)
        return len(unfinished)


class Sweeper:
    """Find updates stored but never answered (their process died) and queue them again, under a fresh lease."""

    def __init__(self, queue: InboxQueue, bot: Bot) -> None:
        self._queue = queue
        self._bot = bot
        self._task: asyncio.Task[None] | None = None
        self.recovered = 0

    async def sweep(self) -> int:
        """Claim and queue every stale update now; return how many."""
        total = 0
        while True:
            stale = await self._queue.inbox.claim_stale_updates(
                self._queue.tuning.sweep_batch, lease_seconds=self._queue.tuning.lease_seconds
            )
            for stored in stale:
                try:
                    update = Update.de_json(json.loads(stored.payload), self._bot)
                except Exception:
                    logger.exception("telegram inbox: stored update %d is unreadable; marked done", stored.update_id)
                    await self._queue.inbox.update_done(stored.update_id)
                    continue
                await self._queue.requeue(update)
            total += len(stale)
            if len(stale) < self._queue.tuning.sweep_batch:
                break
        if total:
            self.recovered += total
            logger.info("telegram inbox: %d update(s) left unanswered earlier are being answered now", total)
        return total

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._queue.tuning.sweep_seconds)
            try:
                await self.sweep()
            except Exception:
                logger.exception("telegram inbox: sweeping failed")

    def start(self) -> None:
        """Sweep every sweep_seconds in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="telegram-inbox-sweeper")

    async def stop(self) -> None:
        """Stop sweeping."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
