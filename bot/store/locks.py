"""Locks that keep a job to one process: a PostgreSQL advisory lock, or a file lock beside the SQLite database.

Telegram allows one getUpdates consumer per bot; a second polling process would steal updates from the first
(and both would see 409 Conflict), so polling takes this lock first and refuses to start without it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

logger = logging.getLogger(__name__)


class LockHeld(RuntimeError):
    """Another process holds the lock; the message says which lock and what to do."""


def _advisory_key(name: str) -> int:
    """Return a stable signed 64-bit key for a lock name (pg advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def async_database_url(url: str) -> str:
    """Return a SQLAlchemy URL with the async driver: postgresql:// and postgres:// become postgresql+asyncpg://."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.removeprefix(prefix)
    return url


class ProcessLock:
    """A held lock; release() (or process exit) frees it."""

    def __init__(
        self,
        name: str,
        *,
        connection: AsyncConnection | None = None,
        fd: int | None = None,
        engine: AsyncEngine | None = None,
    ) -> None:
        self.name = name
        self._connection = connection
        self._fd = fd
        self._engine = engine

    async def release(self) -> None:
        """Free the lock."""
        if self._connection is not None:
            with contextlib.suppress(Exception):  # closing the session frees its advisory locks anyway
                unlock = sa.text("SELECT pg_advisory_unlock(:key)")
                await self._connection.execute(unlock, {"key": _advisory_key(self.name)})
            await self._connection.close()
            self._connection = None
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


async def acquire(
    engine: AsyncEngine | None, name: str, lock_dir: Path, *, what: str, owns_engine: bool = False
) -> ProcessLock:
    """Take the lock `name` or raise LockHeld naming `what` is already running.

    On PostgreSQL: a session-level `pg_try_advisory_lock` on a connection held for the lock's life, so replicas
    on other hosts see it. Otherwise (SQLite, or no engine): an exclusive `flock` on `<lock_dir>/<name>.lock`,
    which the kernel frees when the process dies, even by SIGKILL.
    """
    if engine is not None and engine.dialect.name == "postgresql":
        connection = await engine.connect()
        try:
            got = (
                await connection.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": _advisory_key(name)})
            ).scalar_one()
            await connection.commit()
        except BaseException:
            await connection.close()
            raise
        if not got:
            await connection.close()
            raise LockHeld(f"{what} is already running in another process on this database (advisory lock {name!r})")
        return ProcessLock(name, connection=connection, engine=engine if owns_engine else None)
    lock_dir.mkdir(parents=True, exist_ok=True)
    path = lock_dir / f"{name}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise LockHeld(f"{what} is already running in another process (lock file {path} is held)") from None
    return ProcessLock(name, fd=fd)


POLLING_LOCK = "telegram-polling"


async def acquire_polling_lock(database_url: str | None, data_dir: Path) -> ProcessLock:
    """Take the lock that keeps Telegram polling to one process: on DATABASE_URL's server, else under DATA_DIR."""
    what = "Telegram polling"
    if database_url is None:
        return await acquire(None, POLLING_LOCK, data_dir, what=what)
    engine = create_async_engine(async_database_url(database_url), pool_size=1, max_overflow=0)
    try:
        return await acquire(engine, POLLING_LOCK, data_dir, what=what, owns_engine=True)
    except BaseException:
        await engine.dispose()
        raise
