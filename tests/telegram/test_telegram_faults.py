"""When Telegram misbehaves (429, 500, timeouts) or the bot's own code fails, users still get one answer each."""

from __future__ import annotations

import itertools
import logging
import time
from typing import Any

import pytest
import telegram_factories as tf
from bot_harness import RunningBot
from fake_bot_api import Fault

from bot.service import Asker, Assistant, Reply
from bot.telegram import render
from intents import Engine


async def test_flood_limit_429_is_waited_out_and_answered_once(bot: RunningBot) -> None:
    api = bot.api
    api.faults.fail_next("sendMessage", Fault("429", retry_after=0.5))
    u = tf.user()
    chat = tf.private_chat(u)
    start = time.monotonic()
    await api.send(chat, u, "企业开办要几天")
    [reply] = await api.wait_replies(chat["id"])
    assert time.monotonic() - start >= 0.5  # the bot waited as long as Telegram asked
    await bot.idle()
    assert api.replies(chat["id"]) == [reply]
    assert ("sendMessage", "429") in api.faults.injected


async def test_server_errors_are_retried_and_answered_once(bot: RunningBot, engine: Engine) -> None:
    api = bot.api
    api.faults.fail_next("sendMessage", Fault("500"), times=3)
    u = tf.user()
    chat = tf.private_chat(u)
    await api.send(chat, u, "企业开办要几天")
    [reply] = await api.wait_replies(chat["id"])
    await bot.idle()
    assert api.replies(chat["id"]) == [reply] and reply.text.startswith(engine.ask("企业开办要几天").reply)
    assert api.faults.injected.count(("sendMessage", "500")) == 3


async def test_buttons_work_when_answering_and_editing_fail_at_first(bot: RunningBot, engine: Engine) -> None:
    api = bot.api
    u = tf.user()
    chat = tf.private_chat(u)
    await api.send(chat, u, "/topics")
    [menu] = await api.wait_replies(chat["id"])
    api.faults.fail_next("answerCallbackQuery", Fault("500"))
    api.faults.fail_next("editMessageText", Fault("429", retry_after=0.2))
    api.faults.fail_next("editMessageText", Fault("500"))
    topic = engine.kb.topics[0]
    query = await api.press(menu, u, text=topic.title)
    await api.wait_for(lambda: menu.edits == 1 and query in api.callback_answers)
    assert menu.text.startswith(topic.title)
    assert menu.button_texts[0] == engine.kb.topic_entries(topic.id)[0].questions[0]


@pytest.mark.parametrize("bot", ["polling"], indirect=True)
async def test_a_hanging_get_updates_is_abandoned_and_polling_goes_on(bot: RunningBot) -> None:
    api = bot.api
    await bot.idle()
    api.faults.fail_next("getUpdates", Fault("timeout", delay=4.0))
    u = tf.user()
    chat = tf.private_chat(u)
    await api.send(chat, u, "企业开办要几天")
    [reply] = await api.wait_replies(chat["id"], timeout=15)
    await bot.idle()
    assert api.replies(chat["id"]) == [reply]
    assert ("getUpdates", "timeout") in api.faults.injected


async def test_a_send_that_times_out_is_not_sent_twice(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    api = bot.api
    api.faults.fail_next("sendMessage", Fault("timeout", delay=3.0))
    u = tf.user()
    chat = tf.private_chat(u)
    await api.send(chat, u, "企业开办要几天")
    await api.send(chat, u, "开公司要花钱吗")
    await api.wait_replies(chat["id"], 2, timeout=15)
    await bot.idle()
    replies = api.replies(chat["id"])
    # Telegram got the first answer, only too late to say so: it is not sent again, and no apology follows.
    assert len(replies) == 2 and render.APOLOGY not in [r.text for r in replies]
    assert "TimedOut" in caplog.text


async def test_when_telegram_keeps_failing_the_bot_goes_on_with_the_next_question(
    bot: RunningBot, engine: Engine
) -> None:
    api = bot.api
    api.faults.fail_next("sendMessage", Fault("500"), times=7)  # more than the bot retries
    u = tf.user()
    chat = tf.private_chat(u)
    await api.send(chat, u, "企业开办要几天")
    await api.send(chat, u, "开公司要花钱吗")
    [reply] = await api.wait_replies(chat["id"])
    await bot.idle()
    assert api.replies(chat["id"]) == [reply]
    assert reply.text.startswith(engine.ask("开公司要花钱吗").reply)


async def test_a_failure_in_the_bot_gets_a_short_apology_and_no_stack_trace(
    bot: RunningBot,
    service: Assistant,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real_ask = service.ask

    async def failing_ask(question: str, asker: Asker, **kwargs: Any) -> Reply:
        if "崩溃" in question:
            raise RuntimeError("engine exploded")
        return await real_ask(question, asker, **kwargs)

    monkeypatch.setattr(service, "ask", failing_ask)
    api = bot.api
    u = tf.user()
    chat = tf.private_chat(u)
    group, alice = tf.group_chat(), tf.user("Alice")
    await api.send(chat, u, "这个问题会让程序崩溃吗")
    await api.send(chat, u, "企业开办要几天")
    asked = await api.send(group, alice, f"@{tf.BOT_USERNAME} 崩溃")
    await api.send(group, alice, "群里闲聊也崩溃")  # not addressed to the bot: no apology either
    apology, answer = await api.wait_replies(chat["id"], 2)
    [group_apology] = await api.wait_replies(group["id"])
    await bot.idle()
    assert apology.text == render.APOLOGY and answer.text.startswith(engine.ask("企业开办要几天").reply)
    assert group_apology.text == render.APOLOGY and group_apology.reply_to == asked["message_id"]
    assert len(api.replies(group["id"])) == 1
    assert all("Traceback" not in m.text and "RuntimeError" not in m.text for m in api.sent)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name == "bot.telegram.handlers"]
    assert errors and errors[0].exc_info is not None


async def test_four_hundred_questions_with_one_call_in_ten_failing_are_each_answered_once(
    bot: RunningBot, engine: Engine
) -> None:
    api = bot.api
    await bot.idle()
    questions = itertools.cycle([q for e in engine.kb.entries.values() for q in e.questions[:2]])
    chats = [tf.private_chat(tf.user(f"用户{i}")) for i in range(40)]
    asked: dict[int, list[str]] = {c["id"]: [] for c in chats}
    api.faults.randomly(0.10, [Fault("429", retry_after=0.1), Fault("500")])
    for _ in range(10):
        for chat in chats:
            question = next(questions)
            asked[chat["id"]].append(question)
            await api.send(chat, {"id": chat["id"], "is_bot": False, "first_name": chat["first_name"]}, question)
    await api.wait_for(lambda: len(api.sent) >= 400, timeout=90)
    await bot.idle()
    failed = sum(1 for method, _ in api.faults.injected if method != "getUpdates")
    assert failed >= 20, "about one Bot API call in ten should have failed"  # about 40 expected
    for chat in chats:
        # Each chat sees exactly its ten answers, in the order it asked.
        expected = [engine.ask(q).reply for q in asked[chat["id"]]]
        got = [m.text for m in api.replies(chat["id"])]
        assert len(got) == 10
        assert all(text.startswith(reply) for text, reply in zip(got, expected, strict=True))
