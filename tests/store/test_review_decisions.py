"""The admin console's review decisions: kept by item key, replaced by a later decision, kept across a reopen."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.store import ReviewDecision, Store, review_key, utcnow


async def test_a_decision_is_kept_by_its_item_key_and_a_later_one_replaces_it(store: Store) -> None:
    first = ReviewDecision("group", None, "开个小卖部要跑几趟", "dismissed", utcnow())
    other = ReviewDecision("proposal", "企业开办时间", "开店要几天", "accepted", utcnow() + timedelta(seconds=1))
    await store.put_review_decision(first)
    await store.put_review_decision(other)
    kept = await store.review_decisions()
    assert [(d.key, d.decision) for d in kept] == [(first.key, "dismissed"), (other.key, "accepted")]
    assert kept[1].entry == "企业开办时间" and kept[0].entry is None
    assert first.key == review_key("group", None, "开个小卖部要跑几趟")
    assert first.key != review_key("group", "x", "开个小卖部要跑几趟")
    changed = ReviewDecision("group", None, "开个小卖部要跑几趟", "accepted", utcnow() + timedelta(seconds=2))
    await store.put_review_decision(changed)
    again = {d.key: d.decision for d in await store.review_decisions()}
    assert again == {first.key: "accepted", other.key: "accepted"}


async def test_decisions_survive_a_restart(tmp_path: Path) -> None:
    store = Store.from_settings(tmp_path, None)
    await store.open()
    await store.put_review_decision(ReviewDecision("group", None, "问题", "dismissed", utcnow()))
    await store.close()
    reopened = Store.from_settings(tmp_path, None)
    await reopened.open()
    try:
        assert [d.question for d in await reopened.review_decisions()] == ["问题"]
    finally:
        await reopened.close()
