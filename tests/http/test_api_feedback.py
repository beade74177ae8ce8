"""POST /v1/feedback: a vote on a reply by its id, changed (never doubled) by a second vote; clear refusals."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from http_helpers import ANSWERED, ServerFactory

from bot.store import Store


def test_a_vote_is_stored_and_a_second_one_changes_it(start_server: ServerFactory, data_dir: Path) -> None:
    api = start_server(rate_limit_per_minute=1000)
    record = api.client.post("/v1/ask", json={"question": ANSWERED, "chat_id": 77}).json()["id"]
    first = api.client.post("/v1/feedback", json={"id": record, "vote": "up", "chat_id": 77})
    assert first.status_code == 200 and first.json() == {"id": record, "vote": "up", "reason": None}
    second = api.client.post("/v1/feedback", json={"id": record, "vote": "down", "reason": "已过时", "chat_id": 77})
    assert second.json() == {"id": record, "vote": "down", "reason": "已过时"}
    other = api.client.post("/v1/feedback", json={"id": record, "vote": "up", "chat_id": 78})
    assert other.status_code == 200

    async def stored() -> list[tuple[str, str, str | None]]:
        store = Store.from_settings(data_dir, None)  # the server's SQLite file, read from here
        await store.open()
        try:
            return await store.feedback_since(datetime(2000, 1, 1, tzinfo=UTC))
        finally:
            await store.close()

    votes = asyncio.run(stored())
    assert sorted(v for _, v, _ in votes) == ["down", "up"]  # two voters, the first changed their vote


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{", 400),
        (b'{"vote": "up"}', 400),
        (b'{"id": 5, "vote": "up"}', 400),
        (b'{"id": "abc", "vote": "maybe"}', 400),
        (b'{"id": "abc", "vote": "up", "reason": 5}', 400),
        (b'{"id": "\\ud800", "vote": "up"}', 400),
        (b'{"id": "' + b"a" * 100 + b'", "vote": "up"}', 400),
        (b'{"id": "00000000000000000000000000000000", "vote": "up"}', 404),
        (b"[]", 400),
    ],
)
def test_bad_feedback_is_refused_clearly(start_server: ServerFactory, body: bytes, status: int) -> None:
    api = start_server(rate_limit_per_minute=1000)
    response = api.client.post("/v1/feedback", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert response.json()["error"] in ("invalid_json", "invalid_feedback", "not_found")
    assert response.json()["message"]
