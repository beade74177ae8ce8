"""Small bounded in-memory memories of the WeChat adapter.

Both are behind a Protocol so they can move into the project's store (the assistant façade's conversation
state) without touching the route; until then they live in this process and are lost on restart.
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


class SuggestionMemory(Protocol):
    """The numbered suggestions last offered to each user, so "2" picks the second."""

    def remember(self, user_key: str, questions: tuple[str, ...]) -> None:
        """Remember the suggestions offered to a user (an empty tuple forgets them)."""
        ...

    def pick(self, user_key: str, number: int) -> str | None:
        """Return the question the user's number names, or None."""
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


class LruSuggestionMemory(_Bounded):
    """A SuggestionMemory for the `capacity` users who were offered suggestions most recently."""

    def __init__(self, capacity: int = 4096) -> None:
        super().__init__(capacity)
        self._items: OrderedDict[str, tuple[str, ...]] = OrderedDict()

    def remember(self, user_key: str, questions: tuple[str, ...]) -> None:
        """Remember the suggestions offered to a user (an empty tuple forgets them)."""
        if not questions:
            self._items.pop(user_key, None)
            return
        self._items[user_key] = questions
        self._items.move_to_end(user_key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def pick(self, user_key: str, number: int) -> str | None:
        """Return the question the user's number names, or None."""
        questions = self._items.get(user_key, ())
        return questions[number - 1] if 1 <= number <= len(questions) else None
