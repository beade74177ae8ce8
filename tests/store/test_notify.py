"""LISTEN/NOTIFY between sessions on PostgreSQL (how replicas tell each other they reloaded); nothing on SQLite."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from bot.reload import RELOAD_CHANNEL, Reloader, ReloadResult, ReplicaReloads
from bot.store import Store


async def test_a_notice_reaches_every_listener_and_none_comes_after_stop(store: Store) -> None:
    heard: asyncio.Queue[str] = asyncio.Queue()
    stop = await store.listen("test_channel", heard.put_nowait)
    if store.dialect == "sqlite":
        assert stop is None  # one host: no one else to tell
        await store.notify("test_channel", "ignored")  # and telling is harmless
        return
    assert stop is not None
    await store.notify("test_channel", "replica-a")
    assert await asyncio.wait_for(heard.get(), timeout=10) == "replica-a"
    await stop()
    await store.notify("test_channel", "after-stop")
    await store.notify("other_channel", "unrelated")
    again = await store.listen("test_channel", heard.put_nowait)  # a fresh listener hears only what comes next
    assert again is not None
    await store.notify("test_channel", "replica-b")
    assert await asyncio.wait_for(heard.get(), timeout=10) == "replica-b"
    await again()
    assert heard.empty()


async def _end_listening_sessions(store: Store) -> None:
    """Do what a database restart does to a listener: end its session from the server side."""
    async with store.engine.connect() as conn:
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()"
            )
        )
        await conn.commit()


class CountingReloader(Reloader):
    """Counts the reloads it is asked for, without building an engine."""

    def __init__(self) -> None:
        self.on_reloaded = None
        self.reloads: asyncio.Queue[bool] = asyncio.Queue()

    async def reload(self, *, tell_others: bool = True) -> ReloadResult:
        self.reloads.put_nowait(tell_others)
        return ReloadResult(True, "v", 1)


async def test_a_listener_whose_connection_ends_is_told_so(store: Store) -> None:
    if store.dialect == "sqlite":
        return  # nothing listens on SQLite (the test above)
    lost = asyncio.Event()
    stop = await store.listen("test_channel", lambda _: None, lost.set)
    assert stop is not None
    await _end_listening_sessions(store)
    await asyncio.wait_for(lost.wait(), timeout=10)
    await stop()  # closing what the server already ended is quiet


async def test_replicas_listen_again_after_the_database_ends_the_connection(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    reloader = CountingReloader()
    replicas = ReplicaReloads(reloader, store)
    if store.dialect == "sqlite":
        assert not await replicas.start() and reloader.on_reloaded is None
        return
    monkeypatch.setattr(ReplicaReloads, "RETRY_SECONDS", 0.05)
    assert await replicas.start()
    try:
        await _end_listening_sessions(store)
        # Listening again, it reloads once at once: a notice may have come while it was deaf.
        assert await asyncio.wait_for(reloader.reloads.get(), timeout=10) is False
        await store.notify(RELOAD_CHANNEL, "another-replica")
        assert await asyncio.wait_for(reloader.reloads.get(), timeout=10) is False
        assert reloader.on_reloaded is not None
        await reloader.on_reloaded()  # this replica's own notice, heard back, is not a reason to reload
        await store.notify(RELOAD_CHANNEL, "a-third-replica")
        assert await asyncio.wait_for(reloader.reloads.get(), timeout=10) is False
        assert reloader.reloads.empty()
    finally:
        await replicas.stop()
