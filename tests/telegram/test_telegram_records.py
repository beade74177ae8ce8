"""Every Telegram door is recorded through the façade: a question, a button press, /hotline, an inline query;
salted user hashes only, never a raw id."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import telegram_factories as tf
from bot_harness import FAST, make_settings
from fake_bot_api import FakeBotApi

from bot.service import Assistant, hash_user
from bot.store import Store
from bot.telegram import start_telegram
from intents import Engine

SALT = "telegram-records-salt-0123"
QUESTION = "企业开办要几天"


async def test_question_button_hotline_and_inline_are_each_recorded(
    api: FakeBotApi, engine: Engine, tmp_path: Path
) -> None:
    store = Store.from_settings(tmp_path / "data", None)
    await store.open()
    service = Assistant(engine, store=store, salt=SALT)
    runner = await start_telegram(make_settings(api), service, tuning=FAST)
    try:
        u = tf.user(user_id=987650123456)  # long enough never to occur in the file by chance
        chat = tf.private_chat(u)
        await api.send(chat, u, QUESTION)
        [reply] = await api.wait_replies(chat["id"])
        answer = engine.ask(QUESTION)
        assert answer.entry is not None
        related = engine.kb.entries[answer.entry.related[0]]
        query = await api.press(reply, u, text=related.questions[0])
        await api.wait_for(lambda: query in api.callback_answers)
        await api.send(chat, u, "/hotline")
        await api.wait_replies(chat["id"], 2)
        inline = await api.inline(u, QUESTION)
        await api.wait_for(lambda: api.inline_answers.get(inline))
    finally:
        await runner.stop()
    records = await store.questions_since(datetime(2000, 1, 1, tzinfo=UTC))
    await store.close()
    by_via = {r.via: r for r in records}
    assert set(by_via) == {"ask", "pick", "hotline", "inline"}
    assert by_via["ask"].intent == answer.entry.id and by_via["ask"].outcome == "answer"
    assert by_via["pick"].intent == related.id
    assert by_via["inline"].chat_type == "inline"
    assert {r.channel for r in records} == {"telegram"}
    assert {r.user_hash for r in records} == {hash_user(u["id"], SALT)}
    assert by_via["ask"].conversation is not None and str(chat["id"]) not in by_via["ask"].conversation
    raw = b"".join(p.read_bytes() for p in (tmp_path / "data").glob("assistant.db*"))
    assert str(u["id"]).encode() not in raw
