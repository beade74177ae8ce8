"""A small on-disk cache for start-up work (jieba's prefix dictionary, the analysed example index).

Entries are marshal data (never pickle: a cache file cannot run code), named by a hash of everything they were
built from and written atomically. Every entry is checked on load by the caller's validator: a file that is
unreadable, truncated or of another shape is rebuilt (and the rebuild logged once per process), never trusted. A
read-only folder is still read; a failed write (read-only folder, full disk) leaves no temporary file behind and
only costs the next start-up time. The engine reads no environment: the folder is a parameter.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import marshal
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

_warned: set[str] = set()
_warned_lock = threading.Lock()


class CacheMismatch(ValueError):
    """A cache file was read but does not hold what its name promises."""


def _warn_once(key: str, message: str, *args: object) -> None:
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    logger.warning(message, *args)


def default_folder() -> Path:
    """Return the per-user cache folder used when no folder is configured."""
    return Path.home() / ".cache" / "hohhot-assistant"


def fingerprint(*parts: bytes | str) -> str:
    """Return a short stable hash of the given inputs."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class Cache:
    """One cache folder; `Cache(None)` caches nothing (every start-up rebuilds)."""

    folder: Path | None

    def load(self, name: str, validate: Callable[[Any], T]) -> T | None:
        """Return the validated value stored under name, or None when absent, unreadable or of the wrong shape.

        `validate` returns the value as its type or raises CacheMismatch (or TypeError, ValueError) saying why not.
        """
        if self.folder is None:
            return None
        path = self.folder / name
        try:
            # One read, then loads: marshal.load on a file object reads object by object (several times slower).
            raw = marshal.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, EOFError, ValueError, TypeError) as exc:
            _warn_once(str(path), "rebuilding unreadable cache file %s (%s)", path, exc or type(exc).__name__)
            return None
        try:
            return validate(raw)
        except (CacheMismatch, TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
            _warn_once(str(path), "rebuilding cache file %s: it does not fit (%s)", path, exc)
            return None

    def store(self, name: str, value: Any) -> bool:
        """Write value under name atomically; return False (logged once, no traceback) when it cannot be written."""
        if self.folder is None:
            return False
        folder = self.folder
        tmp: str | None = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                marshal.dump(value, f)
            os.replace(tmp, folder / name)
            tmp = None
            return True
        except (OSError, ValueError) as exc:  # ValueError: marshal refuses a value it cannot write
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            _warn_once(f"store:{folder}", "cannot write the cache in %s (%s); start-up will rebuild it", folder, reason)
            return False
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


def expect(condition: bool, reason: str) -> None:
    """Raise CacheMismatch with reason unless condition holds (for validators)."""
    if not condition:
        raise CacheMismatch(reason)


def is_list_of(value: object, kind: type | tuple[type, ...]) -> bool:
    """Return True when value is a list whose items are all of kind."""
    return isinstance(value, list) and all(isinstance(v, kind) for v in value)


def is_str_map(value: object, kind: type | tuple[type, ...]) -> bool:
    """Return True when value is a dict of str keys to values of kind."""
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, kind) for k, v in value.items())
