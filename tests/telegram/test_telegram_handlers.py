"""Reading messages: mentions (UTF-16 offsets, as Telegram counts), commands, whom a message is meant for."""

from __future__ import annotations

from typing import Any

import pytest
import telegram_factories as tf
from telegram import Message

from bot.telegram.handlers import Command, command_of, is_addressed, question_of

NAME, BOT_ID = tf.BOT_USERNAME, tf.BOT_ID


def msg(text: str, chat: dict[str, Any] | None = None, **extra: Any) -> Message:
    u = tf.user()
    data = tf.message(chat or tf.group_chat(), 5, sender=u, text=text, **extra)
    message = Message.de_json(data, None)
    assert message is not None
    return message


@pytest.mark.parametrize(
    ("text", "question"),
    [
        (f"@{NAME} 企业开办要几天", "企业开办要几天"),
        (f"请问 @{NAME} 企业开办要几天？", "请问 企业开办要几天？"),
        (f"😀👍 @{NAME.upper()} 开公司要花钱吗", "😀👍 开公司要花钱吗"),  # emoji take two UTF-16 units each
        (f"@{NAME}", ""),
        ("@someone_else 企业开办要几天", "@someone_else 企业开办要几天"),
    ],
)
def test_question_is_the_text_without_the_bots_mention(text: str, question: str) -> None:
    assert question_of(msg(text), NAME, BOT_ID) == question


def test_a_text_mention_of_the_bot_counts_too() -> None:
    text = "呼市助手 企业开办要几天"
    entity = {"type": "text_mention", "offset": 0, "length": 4, "user": tf.BOT_USER}
    message = msg(text, entities=[entity])
    assert is_addressed(message, NAME, BOT_ID)
    assert question_of(message, NAME, BOT_ID) == "企业开办要几天"


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("/ask 企业开办要几天", Command("ask", None, "企业开办要几天")),
        (f"/ASK@{NAME}   企业 开办", Command("ask", NAME, "企业 开办")),
        ("/topics", Command("topics", None, "")),
        ("ask /ask", None),
        ("企业开办", None),
    ],
)
def test_commands_are_read_with_their_addressee_and_argument(text: str, command: Command | None) -> None:
    assert command_of(msg(text)) == command


@pytest.mark.parametrize(
    ("text", "extra", "addressed"),
    [
        ("大家好", {}, False),
        (f"@{NAME} 你好", {}, True),
        ("/ask 企业开办要几天", {}, True),
        (f"/ask@{NAME} 企业开办要几天", {}, True),
        ("/ask@other_helper_bot 企业开办要几天", {}, False),
        (
            "那要几天",
            {
                "reply_to_message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": -1, "type": "group"},
                    "from": tf.BOT_USER,
                    "text": "…",
                }
            },
            True,
        ),
        (
            "同意",
            {
                "reply_to_message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": -1, "type": "group"},
                    "from": tf.user(),
                    "text": "…",
                }
            },
            False,
        ),
    ],
)
def test_whom_a_group_message_is_meant_for(text: str, extra: dict[str, Any], addressed: bool) -> None:
    assert is_addressed(msg(text, **extra), NAME, BOT_ID) is addressed


def test_every_private_message_is_meant_for_the_bot() -> None:
    u = tf.user()
    assert is_addressed(msg("随便说说", chat=tf.private_chat(u)), NAME, BOT_ID)
