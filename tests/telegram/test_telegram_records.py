"""Every Telegram door is recorded through the façade: a question, a button press, /hotline, an inline query;
salted user hashes only, never a raw id."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import telegram_factories as tf
from bot_harness import FAST, make_settings
from fake_bot_api import FakeBotApi

from bot.reload import Reloader
from bot.service import FEEDBACK_REASONS, Asker, Assistant, hash_user
from bot.store import Store
from bot.telegram import build_application, render, start_telegram
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


async def test_votes_under_an_answer_are_stored_changed_and_explained(
    api: FakeBotApi, engine: Engine, tmp_path: Path
) -> None:
    store = Store.from_settings(tmp_path / "data", None)
    await store.open()
    service = Assistant(engine, store=store, salt=SALT)
    runner = await start_telegram(make_settings(api), service, tuning=FAST)
    try:
        u, other = tf.user(), tf.user("Bat")
        chat = tf.private_chat(u)
        await api.send(chat, u, QUESTION)
        [reply] = await api.wait_replies(chat["id"])
        assert reply.button_texts[:2] == [render.VOTE_UP, render.VOTE_DOWN]
        assert all(len((b.callback_data or "").encode()) <= 64 for row in reply.buttons for b in row)
        up = await api.press(reply, u, text=render.VOTE_UP)
        await api.wait_for(lambda: up in api.callback_answers)
        assert api.callback_answers[up].get("text") == render.THANKS
        down = await api.press(reply, u, text=render.VOTE_DOWN)  # the same user changes their mind
        await api.wait_for(lambda: down in api.callback_answers and reply.edits == 1)
        assert reply.button_texts == list(FEEDBACK_REASONS)
        why = await api.press(reply, u, text="已过时")
        await api.wait_for(lambda: why in api.callback_answers and reply.edits == 2)
        assert reply.button_texts[:2] == [render.VOTE_UP, render.VOTE_DOWN]  # the answer's buttons are back
        theirs = await api.press(reply, other, text=render.VOTE_UP)
        await api.wait_for(lambda: theirs in api.callback_answers)
    finally:
        await runner.stop()
    votes = sorted(await store.feedback_since(datetime(2000, 1, 1, tzinfo=UTC)), key=lambda v: v[1])
    await store.close()
    assert [(vote, reason) for _, vote, reason in votes] == [("down", "已过时"), ("up", None)]
    assert len({record for record, _, _ in votes}) == 1


async def test_admin_commands_answer_admins_only(api: FakeBotApi, engine: Engine, tmp_path: Path) -> None:
    store = Store.from_settings(tmp_path / "data", None)
    await store.open()
    service = Assistant(engine, store=store, salt=SALT)
    admin, stranger = tf.user("管理员", user_id=424242), tf.user("路人")
    settings = make_settings(api, admin_ids=frozenset({admin["id"]}))
    reloader = Reloader(service, settings)
    application = build_application(settings, service, webhook=False, tuning=FAST, reloader=reloader)
    runner = await start_telegram(settings, service, application=application, tuning=FAST)
    try:
        for text in ("今天天气怎么样", QUESTION):
            await service.ask(text, Asker("api"))
        mine, theirs = tf.private_chat(admin), tf.private_chat(stranger)
        for command in ("/stats", "/unanswered", "/reload"):
            await api.send(theirs, stranger, command)
        stranger_replies = await api.wait_replies(theirs["id"], 3)
        await api.send(mine, admin, "/stats")
        [stats] = await api.wait_replies(mine["id"])
        await api.send(mine, admin, "/unanswered")
        await api.wait_replies(mine["id"], 2)
        await api.send(mine, admin, "/reload")
        replies = await api.wait_replies(mine["id"], 3)
    finally:
        await runner.stop()
        await store.close()
    assert all(r.text == render.UNKNOWN_COMMAND for r in stranger_replies)  # no sign the commands exist
    assert "2 个问题" in stats.text
    assert "今天天气怎么样" in replies[1].text
    assert replies[2].text == render.RELOADED.format(version=service.kb_version, entries=len(engine.kb.entries))
    menus = [c["command"] for scope in api.scoped_commands.values() for c in scope]
    assert not {"stats", "unanswered", "reload"} & set(menus)  # never listed in anyone's menu
