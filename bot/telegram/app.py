"""Build the python-telegram-bot Application: token, base URL, flood limits and retries, handlers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import httpx
from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeDefault,
    Update,
)
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    ExtBot,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.config import ConfigError, Settings
from bot.reload import Reloader
from bot.service import Assistant
from bot.telegram import handlers
from bot.telegram.flood import FloodGate
from bot.telegram.inbox import InboxQueue, InboxTuning, UpdateInbox

logger = logging.getLogger(__name__)

TelegramApplication = Application[
    ExtBot[int], ContextTypes.DEFAULT_TYPE, dict[Any, Any], dict[Any, Any], dict[Any, Any], None
]
"""The Application build_application returns: an int-configured rate limiter, no job queue."""

COMMANDS = (
    BotCommand("ask", "提问，例如 /ask 企业开办要几天"),
    BotCommand("topics", "浏览可咨询的主题"),
    BotCommand("hotline", "12345热线与“办不成事”窗口"),
    BotCommand("help", "怎么提问"),
    BotCommand("start", "简介与示例问题"),
)
"""The command menu of private chats (and the default scope)."""

GROUP_COMMANDS = tuple(c for c in COMMANDS if c.command != "start")
"""The command menu of groups: /start greets, which only makes sense one to one."""

COMMAND_SCOPES: tuple[tuple[BotCommandScope, tuple[BotCommand, ...]], ...] = (
    (BotCommandScopeDefault(), COMMANDS),
    (BotCommandScopeAllPrivateChats(), COMMANDS),
    (BotCommandScopeAllGroupChats(), GROUP_COMMANDS),
)
"""Each chat type's menu, registered with setMyCommands per scope. Commands for some users only (admins) get a
BotCommandScopeChat of their own and never appear in these."""

ALLOWED_UPDATES = (
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CHANNEL_POST,
    Update.CALLBACK_QUERY,
    Update.INLINE_QUERY,
)
"""The update types the bot asks Telegram for; everything else is never delivered."""

_JSON = bool | dict[str, Any] | list[dict[str, Any]]
_SEND_PREFIXES = ("send", "forward", "copy")


@dataclass(frozen=True, slots=True)
class Tuning:
    """How the bot talks to the Bot API; the defaults suit the real Telegram."""

    overall_max_rate: float = 30.0
    """Messages per second over all chats (Telegram's broadcast limit); 0 disables."""
    group_max_rate: float = 20.0
    """Messages per minute in one group or channel (Telegram's limit); 0 disables."""
    flood_retries: int = 3
    """Retries of a call Telegram answered with 429 RetryAfter, each after the wait it asks for."""
    error_retries: int = 4
    """Retries of a call that failed with a server or connection error."""
    retry_backoff: float = 0.25
    """Seconds before the first such retry, doubling each time."""
    read_timeout: float = 10.0
    """Seconds to wait for a Bot API reply (getUpdates waits this much longer than its long poll)."""
    poll_timeout: int = 10
    """Seconds a getUpdates long poll may wait for updates."""
    concurrent_updates: int = 64
    """Updates handled at once, across chats; one chat's updates are always handled in order."""


class RetryingRateLimiter(AIORateLimiter):
    """PTB's flood-limit limiter (which honours RetryAfter), also retrying Telegram's server and network errors.

    A timed-out send is not retried: Telegram may have delivered it, and a user would see the answer twice.
    """

    def __init__(self, tuning: Tuning) -> None:
        super().__init__(
            overall_max_rate=tuning.overall_max_rate,
            group_max_rate=tuning.group_max_rate,
            max_retries=tuning.flood_retries,
        )
        self._error_retries = tuning.error_retries
        self._backoff = tuning.retry_backoff

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, _JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> _JSON:
        """Run one Bot API call through the flood limits, retrying failures that are safe to retry."""
        attempt = 0
        while True:
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except NetworkError as exc:
                if attempt >= self._error_retries or not _retryable(exc, endpoint):
                    raise
                delay = self._backoff * 2**attempt
                attempt += 1
                logger.warning(
                    "Bot API %s failed (%s: %s); retry %d in %.2fs", endpoint, type(exc).__name__, exc, attempt, delay
                )
                await asyncio.sleep(delay)


def _retryable(exc: NetworkError, endpoint: str) -> bool:
    if isinstance(exc, BadRequest):
        return False
    if isinstance(exc, TimedOut):
        never_sent = isinstance(exc.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout)
        return never_sent or not endpoint.startswith(_SEND_PREFIXES)
    return True


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Handle updates concurrently across chats but in arrival order within one chat; mark each done in the inbox."""

    def __init__(self, max_concurrent_updates: int, inbox: InboxQueue | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}
        self._inbox = inbox

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Await the update's handling once the same chat's earlier updates are done."""
        if self._inbox is not None:
            coroutine = self._inbox.handle(update, coroutine)
        chat = update.effective_chat if isinstance(update, Update) else None
        user = update.effective_user if isinstance(update, Update) else None
        key = chat.id if chat is not None else user.id if user is not None else None
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def add_handlers(application: TelegramApplication, admins: frozenset[int] = frozenset()) -> None:
    """Register every handler and the one error handler; the first matching handler wins.

    The admin commands exist only for ADMIN_IDS in private chats: for anyone else they are unknown commands.
    """
    message = filters.UpdateType.MESSAGE
    private, groups = filters.ChatType.PRIVATE, filters.ChatType.GROUPS
    if admins:
        admin = message & private & filters.User(user_id=sorted(admins))
        application.add_handlers(
            [
                CommandHandler("stats", handlers.stats, filters=admin),
                CommandHandler("unanswered", handlers.unanswered, filters=admin),
                CommandHandler("reload", handlers.reload, filters=admin),
            ]
        )
    application.add_handlers(
        [
            CommandHandler("start", handlers.start, filters=message),
            CommandHandler("help", handlers.help_command, filters=message),
            CommandHandler("topics", handlers.topics, filters=message),
            CommandHandler("hotline", handlers.hotline, filters=message),
            CommandHandler("ask", handlers.ask, filters=message),
            CallbackQueryHandler(handlers.button),
            InlineQueryHandler(handlers.inline_query),
            MessageHandler(message & private & filters.TEXT & ~filters.COMMAND, handlers.private_text),
            MessageHandler(
                filters.UpdateType.EDITED_MESSAGE & private & filters.TEXT & ~filters.COMMAND,
                handlers.edited_private_text,
            ),
            MessageHandler(message & private & filters.COMMAND, handlers.unknown_command),
            MessageHandler(message & groups & filters.TEXT & ~filters.COMMAND, handlers.group_text),
            MessageHandler(filters.UpdateType.CHANNEL_POST & filters.TEXT, handlers.channel_post),
            MessageHandler(private, handlers.not_text),
        ]
    )
    application.add_error_handler(handlers.on_error)


class TokenRedactor(logging.Filter):
    """Replace bot tokens in log records: PTB logs its API URL, which holds the token, at DEBUG."""

    LOGGERS = ("telegram.Bot", "telegram.ext.ExtBot", "telegram.BaseRequest", "telegram.HTTPXRequest", "httpx")

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drop it."""
        message = record.getMessage()
        if any(token in message for token in self.tokens):
            for token in self.tokens:
                message = message.replace(token, "<token>")
            record.msg, record.args = message, None
        return True


_redactor = TokenRedactor()


def protect_logs(token: str) -> None:
    """Keep the token and users' messages out of the logs, whatever the log level."""
    _redactor.tokens.add(token)
    for name in TokenRedactor.LOGGERS:
        log = logging.getLogger(name)
        if _redactor not in log.filters:
            log.addFilter(_redactor)
    # httpx logs request URLs (with the token) at INFO; PTB logs whole updates (user ids, texts) at DEBUG.
    for name, floor in (("httpx", logging.WARNING), ("httpcore", logging.WARNING), ("telegram", logging.INFO)):
        log = logging.getLogger(name)
        if log.getEffectiveLevel() < floor:
            log.setLevel(floor)


def build_application(
    settings: Settings,
    service: Assistant,
    *,
    webhook: bool,
    tuning: Tuning | None = None,
    inbox: UpdateInbox | None = None,
    inbox_tuning: InboxTuning | None = None,
    reloader: Reloader | None = None,
) -> TelegramApplication:
    """Build the Application for the configured token; with webhook=True it has no updater (updates come by HTTP).

    With an inbox, every update is stored before it is acknowledged and marked done once handled
    (bot.telegram.inbox): a repeated update_id is not answered again, and none is lost in a crash.
    """
    if settings.telegram_bot_token is None:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set")
    token = settings.telegram_bot_token.get_secret_value()
    tuning = tuning or Tuning()
    queue = InboxQueue(inbox, inbox_tuning) if inbox is not None else None
    protect_logs(token)
    builder = (
        Application.builder()
        .token(token)
        .rate_limiter(RetryingRateLimiter(tuning))
        .concurrent_updates(ChatOrderedProcessor(tuning.concurrent_updates, queue))
        .read_timeout(tuning.read_timeout)
        .get_updates_read_timeout(tuning.read_timeout)
        .job_queue(None)
        # A group question deleted before the answer is sent still gets its answer, just not as a reply.
        .defaults(Defaults(allow_sending_without_reply=True))
    )
    if settings.telegram_base_url:
        # PTB appends the token to base_url, as with https://api.telegram.org/bot.
        builder = builder.base_url(settings.telegram_base_url)
    if queue is not None:
        builder = builder.update_queue(queue)
    if webhook:
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data[handlers.DEPS_KEY] = handlers.Deps(
        service=service,
        flood=FloodGate(settings.per_replica(settings.chat_rate_limit_per_minute)),
        reloader=reloader,
    )
    add_handlers(application, settings.admin_ids)
    return application
