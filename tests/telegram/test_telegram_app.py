"""What is retried when a Bot API call fails, and the per-chat ordering of updates."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.telegram.app import ChatOrderedProcessor, RetryingRateLimiter, Tuning

FAST = Tuning(overall_max_rate=0, group_max_rate=0, flood_retries=2, error_retries=3, retry_backoff=0.001)


def _timed_out(cause: BaseException) -> TimedOut:
    exc = TimedOut()
    exc.__cause__ = cause
    return exc


async def _run(endpoint: str, errors: list[BaseException]) -> tuple[int, object]:
    calls = 0

    async def call(*args: Any, **kwargs: Any) -> bool:
        nonlocal calls
        calls += 1
        if errors:
            raise errors.pop(0)
        return True

    limiter = RetryingRateLimiter(FAST)
    try:
        result: object = await limiter.process_request(call, (), {}, endpoint, {"chat_id": 1}, None)
    except Exception as exc:
        result = exc
    return calls, result


@pytest.mark.parametrize(
    ("endpoint", "make_error", "retried"),
    [
        ("sendMessage", lambda: NetworkError("Internal Server Error"), True),
        ("sendMessage", lambda: RetryAfter(0.01), True),
        ("sendMessage", lambda: BadRequest("Bad Request: chat not found"), False),
        ("sendMessage", lambda: Forbidden("Forbidden: bot was blocked by the user"), False),
        ("sendMessage", lambda: _timed_out(httpx.ReadTimeout("late")), False),
        ("sendMessage", lambda: _timed_out(httpx.ConnectTimeout("no route")), True),
        ("sendMessage", lambda: _timed_out(httpx.PoolTimeout("busy")), True),
        ("editMessageText", lambda: _timed_out(httpx.ReadTimeout("late")), True),
        ("answerCallbackQuery", lambda: NetworkError("Bad Gateway"), True),
    ],
)
async def test_what_is_retried(endpoint: str, make_error: Callable[[], BaseException], retried: bool) -> None:
    error = make_error()  # built here: a RetryAfter warns unless PTB_TIMEDELTA is set, which a fixture does
    calls, result = await _run(endpoint, [error])
    if retried:
        assert (calls, result) == (2, True)
    else:
        assert calls == 1 and result is error


async def test_retries_stop_after_the_configured_number() -> None:
    calls, result = await _run("sendMessage", [NetworkError("Internal Server Error") for _ in range(10)])
    assert calls == FAST.error_retries + 1 and isinstance(result, NetworkError)


async def test_one_chats_updates_are_handled_in_order_while_others_go_ahead() -> None:
    from telegram import Chat, Message, Update

    processor = ChatOrderedProcessor(16)
    done: list[str] = []

    def update(chat_id: int, update_id: int) -> Update:
        msg = Message(update_id, None, Chat(chat_id, Chat.PRIVATE), text="x")  # type: ignore[arg-type]
        return Update(update_id, message=msg)

    async def handle(name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        done.append(name)

    await asyncio.gather(
        processor.process_update(update(1, 1), handle("1a", 0.05)),
        processor.process_update(update(1, 2), handle("1b", 0.0)),
        processor.process_update(update(2, 3), handle("2a", 0.01)),
    )
    assert done == ["2a", "1a", "1b"]
    assert processor._locks == {}
