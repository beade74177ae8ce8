"""Live reload: reread the knowledge base, validate it, build the new engine beside the old one, swap it in.

An invalid knowledge base is refused with its errors and the old one keeps serving; questions in flight finish
on the engine they started with. Triggered by SIGHUP, Telegram's /reload (admins) or `python -m bot kb reload`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.service import Assistant
from intents import Engine
from knowledge.loader import KnowledgeBaseError

logger = logging.getLogger(__name__)

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

    async def reload(self) -> ReloadResult:
        """Load, validate and swap in the knowledge base; keep the old one on any error."""
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
            logger.info(
                "knowledge base reloaded: %s → %s, %d entries",
                before,
                self.service.kb_version,
                self.service.entry_count,
            )
            return ReloadResult(True, self.service.kb_version, self.service.entry_count)

    def on_sighup(self) -> None:
        """Reload in the background (a SIGHUP handler)."""
        asyncio.get_running_loop().create_task(self.reload())


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
