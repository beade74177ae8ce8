"""Thin handlers: parse the update, ask the engine, render, reply."""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import cast

from telegram import (
    CallbackQuery,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import ContextTypes

from bot.reload import Reloader
from bot.service import FEEDBACK_REASONS, Asker, Assistant
from bot.store import Vote
from bot.telegram import keyboards, render
from bot.telegram.flood import FloodGate, Verdict
from intents import Answer, Outcome
from knowledge import KnowledgeBase

logger = logging.getLogger(__name__)

DEPS_KEY = "hohhot.deps"
CHANNEL = "telegram"
MAX_INLINE_RESULTS = 5
INLINE_CACHE_SECONDS = 300
_MENTIONS = (MessageEntity.MENTION, MessageEntity.TEXT_MENTION)

Context = ContextTypes.DEFAULT_TYPE


class ReplyMemory:
    """Which bot message answered which question, so an edited question edits its answer; capped, oldest dropped."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._replies: OrderedDict[tuple[int, int], int] = OrderedDict()

    def remember(self, chat_id: int, question_id: int, reply_id: int) -> None:
        """Note that reply_id answered question_id in chat_id."""
        key = (chat_id, question_id)
        self._replies[key] = reply_id
        self._replies.move_to_end(key)
        while len(self._replies) > self._capacity:
            self._replies.popitem(last=False)

    def reply_to(self, chat_id: int, question_id: int) -> int | None:
        """Return the id of the bot's answer to a question, if it is still remembered."""
        return self._replies.get((chat_id, question_id))

    def __len__(self) -> int:
        return len(self._replies)


@dataclass(frozen=True, slots=True)
class Deps:
    """What the handlers need besides the update: the assistant façade and the per-chat flood gate."""

    service: Assistant
    flood: FloodGate
    replies: ReplyMemory = field(default_factory=ReplyMemory)
    reloader: Reloader | None = None

    @property
    def kb(self) -> KnowledgeBase:
        """Return the knowledge base to browse (topics and entries); answers come from the service."""
        return self.service.catalog


def deps(context: Context) -> Deps:
    """Return the handlers' dependencies, stored in bot_data by build_application."""
    return cast(Deps, context.bot_data[DEPS_KEY])


# --- reading messages -------------------------------------------------------------------------------


def _utf16_cut(text: str, spans: list[tuple[int, int]]) -> str:
    """Return text without the given (offset, length) spans, counted in UTF-16 code units as Telegram does."""
    raw = text.encode("utf-16-le")
    out, position = bytearray(), 0
    for offset, length in sorted(spans):
        out += raw[position : offset * 2]
        position = max(position, (offset + length) * 2)
    out += raw[position:]
    return out.decode("utf-16-le")


def _bot_mentions(message: Message, username: str, bot_id: int) -> list[MessageEntity]:
    def is_bot(entity: MessageEntity, text: str) -> bool:
        if entity.type == MessageEntity.TEXT_MENTION:
            return entity.user is not None and entity.user.id == bot_id
        return text[1:].lower() == username.lower()

    return [e for e, text in message.parse_entities(list(_MENTIONS)).items() if is_bot(e, text)]


@dataclass(frozen=True, slots=True)
class Command:
    """A bot command at the start of a message: /name@addressee argument."""

    name: str
    addressee: str | None
    argument: str

    def for_bot(self, username: str) -> bool:
        """Return True when the command names no bot or this one."""
        return self.addressee is None or self.addressee.lower() == username.lower()


def command_of(message: Message) -> Command | None:
    """Return the bot command the message starts with, if any."""
    for entity in message.entities:
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            name, _, addressee = message.parse_entity(entity)[1:].partition("@")
            argument = _utf16_cut(message.text or "", [(0, entity.length)]).strip()
            return Command(name.lower(), addressee or None, argument)
    return None


def question_of(message: Message, username: str, bot_id: int) -> str:
    """Return the message text without the bot's mentions."""
    spans = [(e.offset, e.length) for e in _bot_mentions(message, username, bot_id)]
    return " ".join(_utf16_cut(message.text or "", spans).split())


def is_addressed(message: Message, username: str, bot_id: int) -> bool:
    """Return True when a message is meant for the bot: any in a private chat; else a mention, a reply, a command."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    if _bot_mentions(message, username, bot_id):
        return True
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return True
    command = command_of(message)
    return command is not None and command.for_bot(username)


def _from_self(message: Message, bot_id: int) -> bool:
    # Our own inline results come back as "via bot" messages; they carry an answer, not a question.
    return message.via_bot is not None and message.via_bot.id == bot_id


def _user_id(message: Message) -> int | None:
    if message.from_user is not None:
        return message.from_user.id
    return message.sender_chat.id if message.sender_chat is not None else None


def _asker(message: Message) -> Asker:
    return Asker(CHANNEL, chat_type=message.chat.type, chat_id=message.chat_id, user_id=_user_id(message))


def _quote(message: Message) -> bool:
    return message.chat.type != ChatType.PRIVATE


# --- replying ---------------------------------------------------------------------------------------


async def _admit(message: Message, context: Context) -> bool:
    """Apply the chat's flood limit: True to go on; on the first excess, tell the chat once."""
    verdict = deps(context).flood.check(message.chat_id)
    if verdict is Verdict.NOTICE:
        logger.info("flood limit reached in a %s chat", message.chat.type)
        await message.reply_text(render.FLOOD_NOTICE, do_quote=_quote(message))
    return verdict is Verdict.ANSWER


async def _reply(message: Message, html: str, markup: InlineKeyboardMarkup | None = None) -> Message:
    return await message.reply_html(html, reply_markup=markup, do_quote=_quote(message))


async def _answer_question(message: Message, question: str, context: Context, *, empty_hint: str) -> None:
    if not await _admit(message, context):
        return
    if not question.strip():
        await _reply(message, empty_hint)
        return
    d = deps(context)
    reply = await d.service.ask(question, _asker(message))
    answer = reply.answer
    markup = keyboards.answer_keyboard(answer, d.kb, record_id=reply.id if reply.recorded else None)
    sent = await _reply(message, render.render_answer(answer), markup)
    d.replies.remember(message.chat_id, message.message_id, sent.message_id)


# --- commands ---------------------------------------------------------------------------------------


TOPIC_PAYLOAD = "topic_"
"""`/start topic_<id>` (a t.me/<bot>?start=topic_<id> deep link) opens that topic's questions."""


async def start(update: Update, context: Context) -> None:
    """Greet: what the assistant knows, with example questions as buttons; a topic deep link opens that topic."""
    message = cast(Message, update.effective_message)
    if not await _admit(message, context):
        return
    kb = deps(context).kb
    command = command_of(message)
    payload = command.argument if command is not None else ""
    if payload.startswith(TOPIC_PAYLOAD):
        topic_id = payload.removeprefix(TOPIC_PAYLOAD)
        topic = next((t for t in kb.topics if t.id == topic_id), None)
        if topic is not None:
            pages = keyboards.question_pages(kb, topic_id)
            await _reply(message, render.topic_text(topic, 0, pages), keyboards.topic_keyboard(kb, topic_id, 0))
            return
    await _reply(message, render.start_text(kb), keyboards.start_keyboard(kb))


async def help_command(update: Update, context: Context) -> None:
    """Explain how to ask in each kind of chat."""
    message = cast(Message, update.effective_message)
    if await _admit(message, context):
        await _reply(message, render.help_text(context.bot.username))


async def topics(update: Update, context: Context) -> None:
    """Open the topic browser."""
    message = cast(Message, update.effective_message)
    if await _admit(message, context):
        kb = deps(context).kb
        await _reply(message, render.topics_text(0, keyboards.topic_pages(kb)), keyboards.topics_keyboard(kb, 0))


async def hotline(update: Update, context: Context) -> None:
    """Show the 12345 guidance."""
    message = cast(Message, update.effective_message)
    if await _admit(message, context):
        answer = (await deps(context).service.hotline(_asker(message))).answer
        await _reply(message, render.render_answer(answer), keyboards.hotline_keyboard())


REPORT_DAYS = 7
MAX_ADMIN_TEXT = 3500
"""Telegram allows 4096 characters a message: long error lists are cut."""


async def stats(update: Update, context: Context) -> None:
    """(Admins) The last week's figures."""
    message = cast(Message, update.effective_message)
    report = await deps(context).service.report(REPORT_DAYS)
    await message.reply_text(report.text()[:MAX_ADMIN_TEXT], do_quote=False)


async def unanswered(update: Update, context: Context) -> None:
    """(Admins) The largest groups of questions the assistant could not answer this week."""
    message = cast(Message, update.effective_message)
    report = await deps(context).service.report(REPORT_DAYS)
    lines = [f"×{g.count} {g.question}" for g in report.unanswered[:20]]
    await message.reply_text("\n".join(lines)[:MAX_ADMIN_TEXT] or render.NOTHING_UNANSWERED, do_quote=False)


async def reload(update: Update, context: Context) -> None:
    """(Admins) Reread the knowledge base; an invalid one is refused with its errors, the old one keeps serving."""
    message = cast(Message, update.effective_message)
    reloader = deps(context).reloader
    if reloader is None:
        await message.reply_text(render.NO_RELOAD, do_quote=False)
        return
    result = await reloader.reload()
    if result.ok:
        text = render.RELOADED.format(version=result.version, entries=result.entries)
    else:
        text = render.RELOAD_REFUSED.format(version=result.version) + "\n" + result.errors
    await message.reply_text(text[:MAX_ADMIN_TEXT], do_quote=False)


async def ask(update: Update, context: Context) -> None:
    """Answer the question after /ask."""
    message = cast(Message, update.effective_message)
    command = command_of(message)
    await _answer_question(message, command.argument if command else "", context, empty_hint=render.EMPTY_ASK)


async def unknown_command(update: Update, context: Context) -> None:
    """Say that a command does not exist (private chats only)."""
    message = cast(Message, update.effective_message)
    if await _admit(message, context):
        await _reply(message, render.UNKNOWN_COMMAND)


# --- messages ---------------------------------------------------------------------------------------


async def private_text(update: Update, context: Context) -> None:
    """Answer any text in a private chat as a question."""
    message = cast(Message, update.effective_message)
    if _from_self(message, context.bot.id):
        return
    question = question_of(message, context.bot.username, context.bot.id)
    await _answer_question(message, question, context, empty_hint=render.NOT_TEXT)


async def edited_private_text(update: Update, context: Context) -> None:
    """Answer an edited question in a private chat: edit the earlier answer when it can, else reply anew."""
    message = cast(Message, update.effective_message)
    if _from_self(message, context.bot.id) or not await _admit(message, context):
        return
    question = question_of(message, context.bot.username, context.bot.id)
    if not question.strip():
        return
    d = deps(context)
    reply = await d.service.ask(question, _asker(message))
    answer = reply.answer
    record_id = reply.id if reply.recorded else None
    html, markup = render.render_answer(answer), keyboards.answer_keyboard(answer, d.kb, record_id=record_id)
    earlier = d.replies.reply_to(message.chat_id, message.message_id)
    if earlier is not None:
        try:
            await context.bot.edit_message_text(
                html, chat_id=message.chat_id, message_id=earlier, parse_mode=ParseMode.HTML, reply_markup=markup
            )
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            logger.info("could not edit the earlier answer, replying anew: %s", exc)
    sent = await _reply(message, html, markup)
    d.replies.remember(message.chat_id, message.message_id, sent.message_id)


async def group_text(update: Update, context: Context) -> None:
    """Answer a group message only when it mentions or replies to the bot; stay silent otherwise."""
    message = cast(Message, update.effective_message)
    bot = context.bot
    if message.is_automatic_forward or _from_self(message, bot.id):
        # A channel post copied into its discussion group was already answered in the channel.
        return
    if not is_addressed(message, bot.username, bot.id):
        return
    hint = render.EMPTY_MENTION.format(username=bot.username)
    await _answer_question(message, question_of(message, bot.username, bot.id), context, empty_hint=hint)


async def channel_post(update: Update, context: Context) -> None:
    """Answer a channel post that mentions the bot or starts with /ask; ignore every other post."""
    message = cast(Message, update.effective_message)
    bot = context.bot
    command = command_of(message)
    if command is not None:
        if command.name == "ask" and command.for_bot(bot.username):
            await _answer_question(message, command.argument, context, empty_hint=render.EMPTY_ASK)
    elif _bot_mentions(message, bot.username, bot.id):
        hint = render.EMPTY_MENTION.format(username=bot.username)
        await _answer_question(message, question_of(message, bot.username, bot.id), context, empty_hint=hint)


async def not_text(update: Update, context: Context) -> None:
    """Ask for text when a private chat sends a sticker, photo, voice, edit or service message."""
    message = cast(Message, update.effective_message)
    if message.chat.type != ChatType.PRIVATE or _from_self(message, context.bot.id):
        return
    if await _admit(message, context):
        await message.reply_text(render.NOT_TEXT, do_quote=False)


# --- buttons ----------------------------------------------------------------------------------------


def _query_asker(query: CallbackQuery) -> Asker:
    message = query.message
    chat = message.chat if message is not None else None
    return Asker(
        CHANNEL, chat_type=chat.type if chat else None, chat_id=chat.id if chat else None, user_id=query.from_user.id
    )


async def _screen(action: keyboards.Action, context: Context, asker: Asker) -> tuple[str, InlineKeyboardMarkup] | None:
    """Return the text and keyboard a button leads to, or None when it is stale."""
    d = deps(context)
    kb = d.kb
    try:
        match action:
            case keyboards.AnswerIntent(intent, browsing):
                if d.service.entry(intent) is None:
                    return None
                reply = await d.service.pick(intent, asker, via="browse" if browsing else "pick")
                record_id = reply.id if reply.recorded else None
                markup = keyboards.answer_keyboard(reply.answer, kb, browsing=browsing, record_id=record_id)
                return render.render_answer(reply.answer), markup
            case keyboards.Hotline():
                answer = (await d.service.hotline(asker)).answer
                return render.render_answer(answer), keyboards.hotline_keyboard()
            case keyboards.TopicList(page):
                pages = keyboards.topic_pages(kb)
                page = min(page, pages - 1)
                return render.topics_text(page, pages), keyboards.topics_keyboard(kb, page)
            case keyboards.TopicQuestions(topic_id, page):
                pages = keyboards.question_pages(kb, topic_id)
                page = min(page, pages - 1)
                topic = next(t for t in kb.topics if t.id == topic_id)
                return render.topic_text(topic, page, pages), keyboards.topic_keyboard(kb, topic_id, page)
    except KeyError:
        return None
    return None


async def _answer_query(query: CallbackQuery, text: str | None = None) -> None:
    try:
        await query.answer(text)
    except BadRequest as exc:  # too old to answer: the user has moved on, nothing to tell them
        logger.info("callback query not answered: %s", exc)


async def _vote(query: CallbackQuery, action: keyboards.VoteOn | keyboards.Reason, context: Context) -> None:
    """Record a 👍/👎 (a second press by the same user changes the vote); 👎 asks why in the same message."""
    d = deps(context)
    asker = _query_asker(query)
    if isinstance(action, keyboards.VoteOn):
        vote = Vote.UP if action.up else Vote.DOWN
        stored = await d.service.feedback(action.record_id, vote, asker)
        if stored is None:
            await _answer_query(query, render.STALE_BUTTON)
            return
        if action.up:
            await _answer_query(query, render.THANKS)
            return
        await _answer_query(query, render.WHY_DOWN)
        markup = keyboards.reasons_keyboard(action.record_id, FEEDBACK_REASONS)
    else:
        if not 0 <= action.index < len(FEEDBACK_REASONS):
            await _answer_query(query, render.STALE_BUTTON)
            return
        reason = FEEDBACK_REASONS[action.index]
        stored = await d.service.feedback(action.record_id, Vote.DOWN, asker, reason=reason)
        if stored is None:
            await _answer_query(query, render.STALE_BUTTON)
            return
        await _answer_query(query, render.THANKS)
        record = await d.service.record(action.record_id)
        entry = d.service.entry(record.intent) if record is not None and record.intent else None
        if entry is None:
            markup = InlineKeyboardMarkup([])
        else:
            markup = keyboards.answer_keyboard(d.service.entry_answer(entry.id), d.kb, record_id=action.record_id)
    try:
        await query.edit_message_reply_markup(reply_markup=markup)
    except BadRequest as exc:  # the message is gone or unchanged: the vote is stored all the same
        logger.info("could not update the vote buttons: %s", exc)


async def button(update: Update, context: Context) -> None:
    """Answer a button press in place: edit the message it belongs to; every press is acknowledged."""
    query = cast(CallbackQuery, update.callback_query)
    action = keyboards.decode(query.data)
    if isinstance(action, keyboards.VoteOn | keyboards.Reason):
        await _vote(query, action, context)
        return
    screen = await _screen(action, context, _query_asker(query)) if action is not None else None
    if screen is None:
        await _answer_query(query, render.STALE_BUTTON)
        return
    await _answer_query(query)
    text, markup = screen
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return
        message = query.message
        if message is None or not message.is_accessible:
            raise
        # The message can no longer be edited (deleted, too old): answer with a new one instead.
        logger.info("could not edit message, sending a new one: %s", exc)
        await context.bot.send_message(message.chat.id, text, parse_mode=ParseMode.HTML, reply_markup=markup)


# --- inline mode ------------------------------------------------------------------------------------


async def inline_answers(question: str, deps_: Deps, asker: Asker) -> list[Answer]:
    """Return up to five answers for an inline query (recorded); popular questions when it is empty."""
    service = deps_.service
    if not question.strip():  # the empty query opens the inline menu: nothing was asked
        return [service.entry_answer(e.id) for e in keyboards.featured_entries(deps_.kb, MAX_INLINE_RESULTS)]
    reply, offered = await service.preview(question, asker, limit=MAX_INLINE_RESULTS)
    if reply.outcome is Outcome.EMPTY:
        return [service.entry_answer(e.id) for e in keyboards.featured_entries(deps_.kb, MAX_INLINE_RESULTS)]
    return list(offered) or [reply.answer]


def _article(answer: Answer) -> InlineQueryResultArticle:
    if answer.entry is not None:
        result_id, title = answer.entry.id, answer.entry.questions[0]
    else:
        result_id, title = "fallback", "没有找到可靠答案 · 建议拨打12345"
    return InlineQueryResultArticle(
        id=result_id,
        title=title,
        description=render.inline_description(answer),
        input_message_content=InputTextMessageContent(render.render_answer(answer), parse_mode=ParseMode.HTML),
    )


async def inline_query(update: Update, context: Context) -> None:
    """Offer up to five answers for what is typed after @botname."""
    query = update.inline_query
    if query is None:
        return
    # Inline queries arrive keystroke by keystroke: each is recorded (via "inline") but never escalated.
    asker = Asker(CHANNEL, chat_type="inline", user_id=query.from_user.id)
    answers = await inline_answers(query.query, deps(context), asker)
    await query.answer([_article(a) for a in answers], cache_time=INLINE_CACHE_SECONDS)


# --- errors -----------------------------------------------------------------------------------------


async def on_error(update: object, context: Context) -> None:
    """Log the failure; tell the asking user something short and true, never a stack trace."""
    logger.error("failed to handle an update", exc_info=context.error)
    if isinstance(context.error, NetworkError) and not isinstance(context.error, BadRequest):
        return  # Telegram itself is unreachable or failing: an apology would not arrive either
    if not isinstance(update, Update):
        return
    if update.callback_query is not None:
        await _answer_query(update.callback_query, render.APOLOGY)
        return
    message = update.effective_message
    bot = context.bot
    if message is None or update.edited_message is not None or not is_addressed(message, bot.username, bot.id):
        return
    try:
        await message.reply_text(render.APOLOGY, do_quote=_quote(message))
    except TelegramError:
        logger.warning("could not send the apology", exc_info=True)
