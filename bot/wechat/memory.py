"""The WeChat adapter's bounded in-memory reply cache.

A retry that reaches this process gets the very same text without asking again; one that reaches another
replica is answered anew but recorded once (the store keys records by the message id). Numbered choices live
in the store's conversation state, so they work on any replica.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol


class ReplyCache(Protocol):
    """Replies already given, by message key, so WeChat's retries get the same reply without asking again."""

    def get(self, key: str) -> str | None:
        """Return the reply given to key, or None."""
        ...

    def put(self, key: str, reply: str) -> None:
        """Remember the reply given to key."""
        ...


class _Bounded:
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity


class LruReplyCache(_Bounded):
    """A ReplyCache keeping the newest `capacity` replies."""

    def __init__(self, capacity: int = 2048) -> None:
        super().__init__(capacity)
        self._items: OrderedDict[str, str] = OrderedDict()

    def get(self, key: str) -> str | None:
        """Return the reply given to key, or None."""
        return self._items.get(key)

    def put(self, key: str, reply: str) -> None:
        """Remember the reply given to key, dropping the oldest beyond capacity."""
        self._items[key] = reply
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
