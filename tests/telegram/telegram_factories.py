"""Small factories for Bot API objects as Telegram sends them (plain JSON dicts)."""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

JSON = dict[str, Any]

BOT_ID = 7_000_001
BOT_USERNAME = "hohhot_helper_bot"
BOT_USER: JSON = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "呼市营商助手",
    "username": BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}

_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_MENTION = re.compile(r"@[A-Za-z0-9_]{5,32}")
_ids = itertools.count(1000)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def entities_for(text: str) -> list[JSON]:
    """Return the bot_command and mention entities Telegram would attach to text (UTF-16 offsets)."""
    found: list[JSON] = []
    command = _COMMAND.match(text)
    if command:
        found.append({"type": "bot_command", "offset": 0, "length": _utf16_len(command.group())})
    for mention in _MENTION.finditer(text):
        if command and mention.start() < command.end():
            continue
        offset = _utf16_len(text[: mention.start()])
        found.append({"type": "mention", "offset": offset, "length": _utf16_len(mention.group())})
    return found


def user(first_name: str = "乌兰", user_id: int | None = None) -> JSON:
    """Return a human user."""
    return {"id": user_id or next(_ids), "is_bot": False, "first_name": first_name, "language_code": "zh-hans"}


def private_chat(of: JSON) -> JSON:
    """Return the private chat with a user."""
    return {"id": of["id"], "type": "private", "first_name": of["first_name"]}


def group_chat(title: str = "营商环境交流群", chat_type: str = "supergroup") -> JSON:
    """Return a group or supergroup."""
    return {"id": -1_000_000_000_000 - next(_ids), "type": chat_type, "title": title}


def channel_chat(title: str = "呼和浩特政务资讯") -> JSON:
    """Return a channel."""
    return {"id": -1_000_000_000_000 - next(_ids), "type": "channel", "title": title}


def message(chat: JSON, message_id: int, *, sender: JSON | None, text: str | None = None, **extra: Any) -> JSON:
    """Return a message; text gets the entities Telegram would parse."""
    out: JSON = {"message_id": message_id, "date": int(time.time()), "chat": chat}
    if sender is not None:
        out["from"] = sender
    if chat["type"] == "channel":
        out["sender_chat"] = chat
    if text is not None:
        out["text"] = text
        entities = entities_for(text)
        if entities:
            out["entities"] = entities
    out.update(extra)
    return out


def sticker() -> JSON:
    """Return the sticker field of a message."""
    return {
        "file_id": "CAACAgIAAxkBAAEC",
        "file_unique_id": "AgADAgAD",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }


def photo() -> list[JSON]:
    """Return the photo field of a message."""
    return [{"file_id": "AgACAgIAAxkBAAEC", "file_unique_id": "AQADAgAD", "width": 320, "height": 240}]


def voice() -> JSON:
    """Return the voice field of a message."""
    return {"file_id": "AwACAgIAAxkBAAEC", "file_unique_id": "AgADBAAD", "duration": 3}
