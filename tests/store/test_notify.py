"""LISTEN/NOTIFY between sessions on PostgreSQL (how replicas tell each other they reloaded); nothing on SQLite."""

from __future__ import annotations

import asyncio

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
