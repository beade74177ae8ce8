"""The real bot against the fake Bot API, in polling and webhook mode: what users see in each kind of chat."""

from __future__ import annotations

import pytest
import telegram_factories as tf
from bot_harness import RunningBot
from fake_bot_api import BotMessage, FakeBotApi

from bot.telegram import render
from intents import Answer, Engine, Outcome

OFF_TOPIC = "明天呼和浩特会下雨吗"
VAGUE = "企业开办要几天"


def answered(engine: Engine) -> tuple[str, Answer]:
    """Return an example question the engine answers with figures and related questions."""
    for entry in engine.kb.entries.values():
        answer = engine.ask(entry.questions[0])
        if answer.intent == entry.id and answer.figures and len(entry.related) >= 2:
            return entry.questions[0], answer
    raise AssertionError("no entry is answered from its own first question")


def vague(engine: Engine) -> tuple[str, Answer]:
    """Return a question the (unsure) engine offers suggestions for."""
    answer = engine.ask(VAGUE)
    assert answer.outcome is Outcome.SUGGEST and len(answer.suggestions) >= 2
    return VAGUE, answer


def assert_cited_answer(message: BotMessage, answer: Answer) -> None:
    """Check a message shows the answer, its figures in bold and the source line."""
    assert message.text.startswith(answer.reply)
    for figure in answer.figures:
        assert figure in message.bold
    assert message.text.rstrip().endswith(answer.source_line)


async def settle(api: FakeBotApi, chat: dict, sender: dict, before: int, *, mention: bool = True) -> list[BotMessage]:
    """Ask a question the bot must answer, so everything sent to the chat before it has been handled too."""
    text = f"@{tf.BOT_USERNAME} 企业开办要几天" if mention else "企业开办要几天"
    sentinel = await api.send(chat, sender, text)
    replies = await api.wait_replies(chat["id"], before + 1)
    assert replies[-1].reply_to in (sentinel["message_id"], None)
    return replies[:-1]


# --- private chats ----------------------------------------------------------------------------------


async def test_private_question_gets_a_cited_answer_with_related_buttons(bot: RunningBot, engine: Engine) -> None:
    question, answer = answered(engine)
    u = tf.user()
    chat = tf.private_chat(u)
    await bot.api.send(chat, u, question)
    [reply] = await bot.api.wait_replies(chat["id"])
    assert_cited_answer(reply, answer)
    assert answer.entry is not None
    related = [engine.kb.entries[i].questions[0] for i in answer.entry.related if i in engine.kb.entries][:3]
    assert reply.button_texts == [*related, "都不是 · 打12345"]
    assert reply.reply_to is None


async def test_related_button_answers_in_place(bot: RunningBot, engine: Engine) -> None:
    question, answer = answered(engine)
    assert answer.entry is not None
    first_related = engine.kb.entries[answer.entry.related[0]]
    u = tf.user()
    chat = tf.private_chat(u)
    await bot.api.send(chat, u, question)
    [reply] = await bot.api.wait_replies(chat["id"])
    query = await bot.api.press(reply, u, text=first_related.questions[0])
    await bot.api.wait_for(lambda: reply.edits == 1 and query in bot.api.callback_answers)
    assert_cited_answer(reply, engine.answer_entry(first_related.id))
    assert len(bot.api.replies(chat["id"])) == 1


@pytest.mark.bot_options(engine="strict")
async def test_unknown_question_falls_back_to_12345(bot: RunningBot) -> None:
    u = tf.user()
    chat = tf.private_chat(u)
    await bot.api.send(chat, u, OFF_TOPIC)
    [reply] = await bot.api.wait_replies(chat["id"])
    assert "没有找到" in reply.text and "12345" in reply.bold
    assert "来源：" in reply.text
    assert reply.button_texts == ["浏览可咨询的主题"]


@pytest.mark.bot_options(engine="unsure")
async def test_suggestion_button_answers_that_question_in_place(bot: RunningBot, unsure_engine: Engine) -> None:
    engine = unsure_engine
    question, answer = vague(engine)
    u = tf.user()
    chat = tf.private_chat(u)
    await bot.api.send(chat, u, question)
    [reply] = await bot.api.wait_replies(chat["id"])
    assert "我不太确定" in reply.text
    picked = answer.suggestions[1]
    assert reply.button_texts == [*(s.question for s in answer.suggestions), "都不是 · 打12345"]
    query = await bot.api.press(reply, u, text=picked.question)
    await bot.api.wait_for(lambda: reply.edits == 1)
    assert bot.api.callback_answers[query].get("text") is None
    assert_cited_answer(reply, engine.answer_entry(picked.intent))
    assert len(bot.api.replies(chat["id"])) == 1


@pytest.mark.bot_options(engine="unsure")
async def test_none_of_these_shows_the_hotline_guidance(bot: RunningBot, unsure_engine: Engine) -> None:
    question, _ = vague(unsure_engine)
    u = tf.user()
    chat = tf.private_chat(u)
    await bot.api.send(chat, u, question)
    [reply] = await bot.api.wait_replies(chat["id"])
    await bot.api.press(reply, u, text="都不是 · 打12345")
    await bot.api.wait_for(lambda: reply.edits == 1)
    assert reply.text.startswith("建议拨打12345") and "12345" in reply.bold
    assert "抱歉" not in reply.text


async def test_start_lists_topics_and_example_buttons(bot: RunningBot, engine: Engine) -> None:
    u = tf.user()
    chat = tf.private_chat(u)
    await bot.api.send(chat, u, "/start")
    [reply] = await bot.api.wait_replies(chat["id"])
    for topic in engine.kb.topics:
        assert topic.title in reply.text
    examples = reply.button_texts[:-1]
    assert len(examples) >= 3 and reply.button_texts[-1] == "浏览可咨询的主题"
    await bot.api.press(reply, u, text=examples[0])
    await bot.api.wait_for(lambda: reply.edits == 1)
    entry = next(e for e in engine.kb.entries.values() if e.questions[0] == examples[0])
    assert_cited_answer(reply, engine.answer_entry(entry.id))


async def tap(api: FakeBotApi, message: BotMessage, user: dict, text: str) -> None:
    """Press a button and wait until the bot has edited the message."""
    edits = message.edits
    await api.press(message, user, text=text)
    await api.wait_for(lambda: message.edits == edits + 1)


async def test_topics_navigation_by_editing_one_message(bot: RunningBot, engine: Engine) -> None:
    api = bot.api
    u = tf.user()
    chat = tf.private_chat(u)
    await api.send(chat, u, "/topics")
    [menu] = await api.wait_replies(chat["id"])
    kb = engine.kb
    # Page through the topic list: every topic is reachable.
    seen: list[str] = []
    while True:
        seen += [t for t in menu.button_texts if t not in ("‹ 上一页", "下一页 ›")]
        if "下一页 ›" not in menu.button_texts:
            break
        await tap(api, menu, u, "下一页 ›")
    assert seen == [t.title for t in kb.topics]
    # Open the biggest topic, page to its end, open a question, go back, and back to all topics.
    topic = max(kb.topics, key=lambda t: len(t.entry_ids))
    while topic.title not in menu.button_texts:
        await tap(api, menu, u, "‹ 上一页")
    await tap(api, menu, u, topic.title)
    assert menu.text.startswith(topic.title) and topic.title in menu.bold
    questions = [e.questions[0] for e in kb.topic_entries(topic.id)]
    listed = [t for t in menu.button_texts if t in questions]
    while "下一页 ›" in menu.button_texts:
        await tap(api, menu, u, "下一页 ›")
        listed += [t for t in menu.button_texts if t in questions]
    assert listed == questions
    await tap(api, menu, u, questions[-1])
    assert_cited_answer(menu, engine.answer_entry(kb.topic_entries(topic.id)[-1].id))
    assert menu.button_texts[-1] == "« 返回"
    await tap(api, menu, u, "« 返回")
    assert questions[-1] in menu.button_texts
    await tap(api, menu, u, "« 全部主题")
    assert topic.title in menu.button_texts
    assert len(api.replies(chat["id"])) == 1
    assert all(a.get("text") is None for a in api.callback_answers.values())


async def test_help_hotline_and_ask_commands(bot: RunningBot, engine: Engine) -> None:
    api = bot.api
    question, answer = answered(engine)
    u = tf.user()
    chat = tf.private_chat(u)
    await api.send(chat, u, "/help")
    await api.send(chat, u, "/hotline")
    await api.send(chat, u, f"/ask {question}")
    await api.send(chat, u, "/ask")
    await api.send(chat, u, "/nosuchcommand")
    help_, hotline, asked, empty, unknown = await api.wait_replies(chat["id"], 5)
    assert "/topics" in help_.text and f"@{tf.BOT_USERNAME}" in help_.text
    assert hotline.text.startswith("建议拨打12345") and "12345" in hotline.bold and "来源：" in hotline.text
    assert_cited_answer(asked, answer)
    assert empty.text == render.EMPTY_ASK
    assert unknown.text == render.UNKNOWN_COMMAND


async def test_user_text_is_never_echoed_as_html(bot: RunningBot) -> None:
    u = tf.user()
    chat = tf.private_chat(u)
    await bot.api.send(chat, u, "<b>企业开办</b> & <script>alert(1)</script>要几天？")
    [reply] = await bot.api.wait_replies(chat["id"])  # the fake rejects malformed HTML with 400, like Telegram
    assert "<script>" not in reply.text


async def test_stickers_photos_voice_service_messages_get_a_text_prompt_in_private(bot: RunningBot) -> None:
    api = bot.api
    u = tf.user()
    chat = tf.private_chat(u)
    await api.send(chat, u, sticker=tf.sticker())
    await api.send(chat, u, photo=tf.photo())
    await api.send(chat, u, voice=tf.voice())
    await api.send(chat, u, pinned_message={"message_id": 1, "date": 0, "chat": chat})
    replies = await api.wait_replies(chat["id"], 4)
    assert [r.text for r in replies] == [render.NOT_TEXT] * 4


async def test_an_edited_question_edits_its_answer(bot: RunningBot, engine: Engine) -> None:
    api = bot.api
    u = tf.user()
    chat = tf.private_chat(u)
    original = await api.send(chat, u, "企业开办要几天")
    [reply] = await api.wait_replies(chat["id"])
    assert "0.5个工作日" in reply.text
    await api.edit(original, "企业注销要多久")
    await api.wait_for(lambda: reply.edits == 1)
    assert reply.text != engine.ask("企业开办要几天").text
    assert set(engine.ask("企业注销要多久").figures) & set(reply.bold)
    assert len(api.replies(chat["id"])) == 1  # edited in place, no second message


async def test_an_edited_question_whose_answer_is_forgotten_gets_a_new_answer(bot: RunningBot) -> None:
    api = bot.api
    u = tf.user()
    chat = tf.private_chat(u)
    # An edit of a message the bot never answered (sent before a restart, say): answered with a new message.
    await api.edit({"message_id": 999, "date": 0, "chat": chat, "from": u, "text": "x"}, "企业开办要几天")
    [reply] = await api.wait_replies(chat["id"])
    assert "0.5个工作日" in reply.text


async def test_start_deep_link_opens_the_topic(bot: RunningBot, engine: Engine) -> None:
    api = bot.api
    u = tf.user()
    chat = tf.private_chat(u)
    topic = engine.kb.topics[3]
    await api.send(chat, u, f"/start topic_{topic.id}")
    await api.send(chat, u, "/start topic_no_such_topic")
    await api.send(chat, u, "/start")
    opened, fallback, greeting = await api.wait_replies(chat["id"], 3)
    assert topic.title in opened.text
    first = engine.kb.entries[topic.entry_ids[0]].questions[0]
    assert any(text in first or first in text for text in opened.button_texts)
    assert opened.text != greeting.text
    assert (fallback.text, fallback.button_texts) == (greeting.text, greeting.button_texts)  # unknown: the greeting


async def test_private_flood_is_slowed_with_one_notice(bot: RunningBot) -> None:
    api = bot.api
    u = tf.user()
    chat = tf.private_chat(u)
    for i in range(40):
        await api.send(chat, u, f"企业开办要几天{i}")
    await bot.idle()
    replies = api.replies(chat["id"])
    assert [r.text for r in replies].count(render.FLOOD_NOTICE) == 1
    assert len(replies) == 21  # 20 answers (the chat's per-minute limit) and one notice


# --- groups -----------------------------------------------------------------------------------------


async def test_a_group_question_deleted_before_the_answer_still_gets_it(bot: RunningBot, engine: Engine) -> None:
    api = bot.api
    question, answer = answered(engine)
    group, alice = tf.group_chat(), tf.user("Alice")
    api.chats[group["id"]] = group
    # Pushed without being kept by the fake: to Telegram, the message is gone by the time the answer is sent.
    gone = tf.message(group, 4242, sender=alice, text=f"@{tf.BOT_USERNAME} {question}")
    await api.push_update("message", gone)
    [reply] = await api.wait_replies(group["id"])
    assert_cited_answer(reply, answer)
    assert reply.reply_to is None


async def test_group_mention_is_answered_as_a_reply_and_chatter_ignored(bot: RunningBot, engine: Engine) -> None:
    api = bot.api
    question, answer = answered(engine)
    group, alice, bob = tf.group_chat(), tf.user("Alice"), tf.user("Bob")
    await api.send(group, alice, "大家中午吃什么？")
    await api.send(group, bob, question)  # a question, but not addressed to the bot
    await api.send(group, bob, "@someone_else 企业开办要几天")
    asked = await api.send(group, alice, f"@{tf.BOT_USERNAME} {question}")
    [reply] = await api.wait_replies(group["id"])
    assert reply.reply_to == asked["message_id"]
    assert_cited_answer(reply, answer)
    assert await settle(api, group, alice, 1) == [reply]


async def test_reply_to_the_bot_in_a_group_is_answered(bot: RunningBot, engine: Engine) -> None:
    api = bot.api
    question, answer = answered(engine)
    group, alice = tf.group_chat(), tf.user("Alice")
    first = await api.send(group, alice, f"@{tf.BOT_USERNAME} {question}")
    [earlier] = await api.wait_replies(group["id"])
    assert earlier.reply_to == first["message_id"]
    follow_up = await api.send(group, alice, question, reply_to=earlier)
    _, reply = await api.wait_replies(group["id"], 2)
    assert reply.reply_to == follow_up["message_id"]
    assert_cited_answer(reply, answer)


async def test_group_ask_command_with_and_without_the_bot_name(bot: RunningBot) -> None:
    api = bot.api
    group, alice = tf.group_chat("青城创业者"), tf.user("Alice")
    a = await api.send(group, alice, "/ask 企业开办要几天")
    b = await api.send(group, alice, f"/ask@{tf.BOT_USERNAME} 企业开办要几天")
    await api.send(group, alice, "/ask@other_helper_bot 企业开办要几天")
    first, second = await api.wait_replies(group["id"], 2)
    assert (first.reply_to, second.reply_to) == (a["message_id"], b["message_id"])
    assert await settle(api, group, alice, 2) == [first, second]


async def test_group_stickers_and_service_messages_are_ignored(bot: RunningBot) -> None:
    api = bot.api
    group, alice = tf.group_chat(), tf.user("Alice")
    await api.send(group, alice, sticker=tf.sticker())
    await api.send(group, alice, new_chat_members=[tf.user("Bob")])
    original = await api.send(group, alice, "随便聊聊")
    await api.edit(original, f"@{tf.BOT_USERNAME} 企业开办要几天")
    assert await settle(api, group, alice, 0) == []


@pytest.mark.bot_options(chat_rate_limit_per_minute=5)
async def test_a_flooding_group_is_slowed_not_answered_a_hundred_times(bot: RunningBot) -> None:
    api = bot.api
    group, alice = tf.group_chat(), tf.user("Alice")
    for i in range(100):
        await api.send(group, alice, f"@{tf.BOT_USERNAME} 企业开办要几天 {i}")
    await bot.idle()
    texts = [r.text for r in api.replies(group["id"])]
    assert len(texts) == 6 and texts.count(render.FLOOD_NOTICE) == 1


async def test_discussion_group_copy_of_a_channel_post_is_not_answered_twice(bot: RunningBot) -> None:
    api = bot.api
    group, channel, alice = tf.group_chat("讨论组"), tf.channel_chat(), tf.user("Alice")
    await api.send(group, None, f"@{tf.BOT_USERNAME} 企业开办要几天", is_automatic_forward=True, sender_chat=channel)
    assert await settle(api, group, alice, 0) == []


# --- channels ---------------------------------------------------------------------------------------


async def test_channel_posts_that_mention_or_ask_are_answered_others_ignored(bot: RunningBot, engine: Engine) -> None:
    api = bot.api
    question, answer = answered(engine)
    channel = tf.channel_chat()
    await api.send(channel, None, "今日通知：政务服务大厅周六照常办公。", kind="channel_post")
    await api.send(channel, None, "/ask@other_helper_bot 企业开办要几天", kind="channel_post")
    mention = await api.send(channel, None, f"@{tf.BOT_USERNAME} {question}", kind="channel_post")
    ask = await api.send(channel, None, f"/ask {question}", kind="channel_post")
    await bot.idle()
    first, second = api.replies(channel["id"])
    assert first.reply_to == mention["message_id"] and second.reply_to == ask["message_id"]
    assert_cited_answer(first, answer)
    assert_cited_answer(second, answer)


# --- inline mode ------------------------------------------------------------------------------------


async def test_inline_query_offers_up_to_five_cited_answers(bot: RunningBot, engine: Engine) -> None:
    question, answer = answered(engine)
    query_id = await bot.api.inline(tf.user(), question)
    results = await bot.api.wait_for(lambda: bot.api.inline_answers.get(query_id))
    assert answer.entry is not None
    assert 1 <= len(results) <= 5
    assert results[0]["title"] == answer.entry.questions[0]
    content = results[0]["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert answer.source_line in content["message_text"]
    assert f"<b>{answer.figures[0]}</b>" in content["message_text"]


async def test_empty_inline_query_offers_popular_questions(bot: RunningBot, engine: Engine) -> None:
    query_id = await bot.api.inline(tf.user(), "")
    results = await bot.api.wait_for(lambda: bot.api.inline_answers.get(query_id))
    assert len(results) == 5
    firsts = {e.questions[0] for e in engine.kb.entries.values()}
    assert all(r["title"] in firsts for r in results)


@pytest.mark.bot_options(engine="strict")
async def test_inline_query_without_an_answer_offers_the_hotline(bot: RunningBot) -> None:
    query_id = await bot.api.inline(tf.user(), OFF_TOPIC)
    [result] = await bot.api.wait_for(lambda: bot.api.inline_answers.get(query_id))
    assert "12345" in result["title"] and "12345" in result["input_message_content"]["message_text"]


# --- buttons that are stale or not ours -------------------------------------------------------------


async def test_stale_and_unknown_buttons_are_answered(bot: RunningBot) -> None:
    api = bot.api
    u = tf.user()
    chat = tf.private_chat(u)
    await api.send(chat, u, "/topics")
    [menu] = await api.wait_replies(chat["id"])
    ids = [
        await api.press(menu, u, data="a:no_such_entry"),
        await api.press(menu, u, data="tq:no_such_topic:0"),
        await api.press(menu, u, data="something else entirely"),
    ]
    await api.wait_for(lambda: all(i in api.callback_answers for i in ids))
    assert {api.callback_answers[i]["text"] for i in ids} == {render.STALE_BUTTON}
    assert menu.edits == 0


async def test_a_button_on_a_message_that_can_no_longer_be_edited_answers_anew(bot: RunningBot, engine: Engine) -> None:
    api = bot.api
    u = tf.user()
    chat = tf.private_chat(u)
    await api.send(chat, u, "/start")
    [greeting] = await api.wait_replies(chat["id"])
    del api.bot_messages[(chat["id"], greeting.message_id)]  # deleted, as far as Telegram is concerned
    example = greeting.button_texts[0]
    query = await api.press(greeting, u, text=example)
    _, answer = await api.wait_replies(chat["id"], 2)
    entry = next(e for e in engine.kb.entries.values() if e.questions[0] == example)
    assert_cited_answer(answer, engine.answer_entry(entry.id))
    assert query in api.callback_answers
