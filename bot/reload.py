"""Live reload: reread the knowledge base, validate it, build the new engine beside the old one, swap it in.

An invalid knowledge base is refused with its errors and the old one keeps serving; questions in flight finish
on the engine they started with. Triggered by SIGHUP, Telegram's /reload (admins), the admin console or
`python -m bot kb reload`. With several replicas on one PostgreSQL, a replica that reloaded tells the others
(LISTEN/NOTIFY) and each rereads its own KNOWLEDGE_DIR: with that folder shared, every replica serves what the
curators accepted on any one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.service import Assistant
from bot.startup import refreeze
from bot.store import Store
from intents import Engine
from knowledge.loader import KnowledgeBaseError

logger = logging.getLogger(__name__)

RELOAD_CHANNEL = "hohhot_assistant_reload"
"""The PostgreSQL notification channel on which a replica that reloaded tells the others."""
PID_FILE = "serve.pid"
"""Under DATA_DIR: the running server's process id, for `python -m bot kb reload`."""


@dataclass(frozen=True, slots=True)
class ReloadResult:
    """What a reload did: the version now serving, and the errors when the new base was refused."""

    ok: bool
    version: str
    entries: int
    errors: str = ""


class Reloader:
    """Reloads the assistant's knowledge base, one reload at a time."""

    def __init__(self, service: Assistant, settings: Settings) -> None:
        self.service = service
        self.settings = settings
        self._lock = asyncio.Lock()
        self.on_reloaded: Callable[[], Awaitable[None]] | None = None
        """Called after each reload this process was asked for (not one it was told of): see ReplicaReloads."""

    async def reload(self, *, tell_others: bool = True) -> ReloadResult:
        """Load, validate and swap in the knowledge base; keep the old one on any error. With tell_others, the
        other replicas reload too once this one has."""
        async with self._lock:
            try:
                engine = await asyncio.to_thread(
                    Engine.load, cache_dir=self.settings.cache_dir, data_dir=self.settings.knowledge_dir
                )
            except KnowledgeBaseError as exc:
                logger.error("reload refused: the knowledge base is invalid; the old one keeps serving\n%s", exc)
                return ReloadResult(False, self.service.kb_version, self.service.entry_count, str(exc))
            except Exception as exc:
                logger.exception("reload failed; the old knowledge base keeps serving")
                return ReloadResult(False, self.service.kb_version, self.service.entry_count, type(exc).__name__)
            before = self.service.kb_version
            self.service.swap(engine)
            refreeze()  # the old engine is freed, the new one kept out of full collections
            logger.info(
                "knowledge base reloaded: %s → %s, %d entries",
                before,
                self.service.kb_version,
                self.service.entry_count,
            )
            result = ReloadResult(True, self.service.kb_version, self.service.entry_count)
        if tell_others and self.on_reloaded is not None:
            try:
                await self.on_reloaded()
            except Exception as exc:
                logger.warning("reload: could not tell the other replicas (%s); they serve the old base", exc)
        return result

    def on_sighup(self) -> None:
        """Reload in the background (a SIGHUP handler)."""
        asyncio.get_running_loop().create_task(self.reload())


class ReplicaReloads:
    """Replicas on one PostgreSQL reload together: the one that reloaded says so on RELOAD_CHANNEL, and every other
    one rereads its KNOWLEDGE_DIR when it hears it (an invalid base is refused there as anywhere)."""

    RETRY_SECONDS = 5.0
    """How long to wait before listening again when the database ended the listening connection."""

    def __init__(self, reloader: Reloader, store: Store) -> None:
        self.reloader = reloader
        self.store = store
        self._me = uuid.uuid4().hex  # a replica hears its own notices too
        self._stop: Callable[[], Awaitable[None]] | None = None
        self._tasks: set[asyncio.Task[object]] = set()
        self._stopping = False

    async def start(self) -> bool:
        """Listen for the others' reloads and announce this one's; False on SQLite or when the store is down."""
        try:
            self._stop = await self.store.listen(RELOAD_CHANNEL, self._heard, self._lost)
        except Exception as exc:
            logger.warning("reload: not listening for the other replicas' reloads (%s)", type(exc).__name__)
            return False
        if self._stop is None:
            return False
        self.reloader.on_reloaded = self._tell
        return True

    def _spawn(self, work: Awaitable[object]) -> None:
        task: asyncio.Task[object] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _heard(self, payload: str) -> None:
        if payload == self._me:
            return
        logger.info("reload: another replica reloaded; reloading")
        self._spawn(self.reloader.reload(tell_others=False))

    def _lost(self) -> None:
        if not self._stopping:
            logger.warning("reload: the database ended the listening connection; listening again shortly")
            self._spawn(self._listen_again())

    async def _listen_again(self) -> None:
        """Listen again as soon as the database lets us, then reload once: a notice may have come meanwhile."""
        lost, self._stop = self._stop, None
        if lost is not None:
            await lost()  # give the dead connection back to the pool
        while not self._stopping:
            await asyncio.sleep(self.RETRY_SECONDS)
            try:
                self._stop = await self.store.listen(RELOAD_CHANNEL, self._heard, self._lost)
            except Exception as exc:
                logger.warning("reload: listening again failed (%s); retrying", type(exc).__name__)
                continue
            logger.info("reload: listening for the other replicas' reloads again")
            await self.reloader.reload(tell_others=False)
            return

    async def _tell(self) -> None:
        await self.store.notify(RELOAD_CHANNEL, self._me)

    async def stop(self) -> None:
        """Stop listening."""
        self._stopping = True
        self.reloader.on_reloaded = None
        for task in list(self._tasks):
            task.cancel()
        if self._stop is not None:
            await self._stop()
            self._stop = None


def install_sighup(reloader: Reloader) -> bool:
    """Reload on SIGHUP (main thread only); return whether the handler is installed."""
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reloader.on_sighup)
    except (RuntimeError, ValueError, NotImplementedError):  # not the main thread, or no signals here
        return False
    return True


def write_pid(data_dir: Path) -> Path | None:
    """Record this process's id under data_dir, for `kb reload`; None when the folder cannot be written."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / PID_FILE
        path.write_text(f"{os.getpid()}\n", encoding="ascii")
    except OSError:
        return None
    return path


def signal_running_server(data_dir: Path) -> int:
    """Send SIGHUP to the server whose pid file is under data_dir; return its pid (OSError/ValueError if none)."""
    pid = int((data_dir / PID_FILE).read_text(encoding="ascii").strip())
    os.kill(pid, signal.SIGHUP)
    return pid
