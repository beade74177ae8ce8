"""A small on-disk cache for start-up work (jieba's prefix dictionary, the analysed example index).

Entries are marshal data (never pickle: a cache file cannot run code), named by a hash of everything they were
built from, written atomically, and ignored when unreadable. The folder is JIEBA_CACHE_DIR when set, else the
user's cache folder, else the temp folder.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import tempfile
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Return the cache folder, creating it if needed."""
    configured = os.environ.get("JIEBA_CACHE_DIR")
    if configured:
        path = Path(configured)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
        path = Path(base) / "hohhot-assistant"
    try:
        path.mkdir(parents=True, exist_ok=True)
        if os.access(path, os.W_OK):
            return path
    except OSError:
        pass
    return Path(tempfile.gettempdir())


def fingerprint(*parts: bytes | str) -> str:
    """Return a short stable hash of the given inputs."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()[:24]


def load(name: str) -> Any | None:
    """Return the cached value stored under name, or None when absent or unreadable."""
    path = cache_dir() / name
    try:
        with path.open("rb") as f:
            return marshal.load(f)
    except FileNotFoundError:
        return None
    except (OSError, EOFError, ValueError, TypeError):
        logger.warning("ignoring unreadable cache file %s", path)
        return None


def store(name: str, value: Any) -> None:
    """Write value under name atomically; a read-only or full disk only costs the next start-up time."""
    folder = cache_dir()
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        with os.fdopen(fd, "wb") as f:
            marshal.dump(value, f)
        os.replace(tmp, folder / name)
    except OSError as exc:
        logger.debug("could not write cache file %s: %s", name, exc)
