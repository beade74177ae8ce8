"""Claims take at most what they ask for, never a row another claim holds, and retake lapsed leases.

Under concurrency SKIP LOCKED may hand a claim fewer rows than its limit (a row another claim just
took is skipped, not waited for); what must hold is no overlap and that claiming again drains the rest.
"""

from __future__ import annotations

import asyncio

from fakes.records import fallback_record

from bot.store import OutboxItem, Store, StoredUpdate, utcnow


def _item(number: int) -> OutboxItem:
    return OutboxItem(id=f"i{number:04d}", question_id=None, kind="fallback", payload="{}", created_at=utcnow())


async def test_a_claim_takes_at_most_its_limit_and_claims_never_overlap(store: Store) -> None:
    for number in range(50):
        await store.record_question(fallback_record(f"q{number:04d}"), outbox_item=_item(number))
    batches = await asyncio.gather(*(store.claim_outbox(limit=10, lease_seconds=30) for _ in range(6)))
    assert all(len(batch) <= 10 for batch in batches)
    assert sum(len(batch) for batch in batches) >= 40
    while rest := await store.claim_outbox(limit=10, lease_seconds=30):
        batches.append(rest)
    ids = [item.id for batch in batches for item in batch]
    assert len(ids) == len(set(ids)) == 50


async def test_a_lapsed_lease_is_taken_again(store: Store) -> None:
    await store.record_question(fallback_record("q0001"), outbox_item=_item(1))
    assert len(await store.claim_outbox(limit=5, lease_seconds=0.2)) == 1
    assert await store.claim_outbox(limit=5, lease_seconds=30) == []
    await asyncio.sleep(0.3)
    assert [i.id for i in await store.claim_outbox(limit=5, lease_seconds=30)] == ["i0001"]


async def test_updates_are_stored_once_and_claimed_once(store: Store) -> None:
    assert await store.accept_update(StoredUpdate(7, "{}"), lease_seconds=0) is True
    assert await store.accept_update(StoredUpdate(7, "{}"), lease_seconds=0) is False
    first, second = await asyncio.gather(
        store.claim_stale_updates(5, lease_seconds=30), store.claim_stale_updates(5, lease_seconds=30)
    )
    assert sorted(len(x) for x in (first, second)) == [0, 1]
