"""SQLite: this process's writers take turns, so a writer is never failed by SQLite's busy timeout because
another coroutine of the same process holds its write transaction open across the event loop's hops."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import insert

import bot.store.store as store_module
from bot.store import Store, StoredUpdate, utcnow
from bot.store.schema import telegram_updates


async def test_a_writer_waits_its_turn_behind_a_slow_transaction_instead_of_failing(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "SQLITE_BUSY_MS", 50)  # SQLite alone would give up after 50 ms
    store = Store.from_settings(data_dir, None)
    await store.open()
    try:
        release = asyncio.Event()
        holding = asyncio.Event()

        async def slow_writer() -> None:  # a transaction whose coroutine is held up between its statements
            async with store._begin() as conn:
                now = utcnow()
                row = {"update_id": 1, "payload": "{}", "received_at": now, "status": "pending", "attempts": 0}
                await conn.execute(insert(telegram_updates).values(row))
                holding.set()
                await release.wait()

        holder = asyncio.create_task(slow_writer())
        await holding.wait()
        accept = asyncio.create_task(store.accept_update(StoredUpdate(2, "{}"), lease_seconds=30))
        done, _ = await asyncio.wait({accept}, timeout=0.5)  # ten busy timeouts: SQLite would have failed it
        assert not done, f"the second writer did not wait its turn: {accept.exception()!r}"
        release.set()
        await holder
        assert await accept is True  # stored once the first transaction ended
        assert await store.accept_update(StoredUpdate(2, "{}"), lease_seconds=30) is False
    finally:
        await store.close()
