"""Start and stop the bot for `serve`: long polling by default, the webhook when WEBHOOK_URL is set."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from telegram import Bot
from telegram.error import InvalidToken

from bot.config import ConfigError, Mode, Settings
from bot.service import Assistant
from bot.telegram.app import (
    ALLOWED_UPDATES,
    COMMAND_SCOPES,
    TelegramApplication,
    Tuning,
    build_application,
    protect_logs,
)
from bot.telegram.inbox import InboxQueue, Sweeper

logger = logging.getLogger(__name__)

STOP_SECONDS = 7.0
"""How long a stop waits for updates being answered; the rest stay in the inbox (Docker kills after 10 s)."""


@dataclass(frozen=True, slots=True)
class TelegramRunner:
    """A started bot: its application, how it receives updates and, in webhook mode, the secret Telegram sends."""

    application: TelegramApplication
    mode: Mode
    """Mode.POLLING or Mode.WEBHOOK."""
    webhook_secret: str | None = field(default=None, repr=False)
    sweeper: Sweeper | None = None

    async def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stop receiving updates, finish the ones in hand for up to timeout seconds and release the connections.

        With an inbox, updates queued but not started are given back to it (any replica, or the next start,
        answers them) and updates still being answered at the deadline stay pending there.
        """
        app = self.application
        if self.sweeper is not None:
            await self.sweeper.stop()
        queue = app.update_queue
        if isinstance(queue, InboxQueue):
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            queue.closing = True  # updates not started by now stay in the inbox
        try:
            await asyncio.wait_for(_close(app), timeout)
        except TimeoutError:
            logger.warning("telegram: stopped before every update in hand was answered")
            with contextlib.suppress(Exception):
                await app.bot.shutdown()
        if isinstance(queue, InboxQueue):
            try:
                left = await queue.give_back()
            except Exception:  # their leases run out by themselves
                logger.exception("telegram inbox: could not give back the updates left unanswered")
            else:
                if left:
                    logger.info("telegram: %d update(s) left in the inbox for the next start or another replica", left)
        logger.info("telegram bot stopped")


async def _close(app: TelegramApplication) -> None:
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
    # When initialize() failed half-way the application thinks there is nothing to shut down,
    # yet the bot's HTTP clients are open.
    await app.bot.shutdown()


def _public_origin(url: str) -> str:
    # The path may hold a secret of its own: log only where the webhook points.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def start_telegram(
    settings: Settings,
    service: Assistant,
    *,
    application: TelegramApplication | None = None,
    tuning: Tuning | None = None,
    register: bool = True,
) -> TelegramRunner:
    """Check the setup, connect, register the commands, then poll or register the webhook.

    With register=False (several replicas: `python -m bot setup` registers once per deploy) neither the commands
    nor the webhook are set. With an inbox, updates left unanswered by an earlier process are answered first.

    In webhook mode the updates arrive through the HTTP server's POST /telegram/webhook, which must be built
    with the same application and secret: pass settings that went through Settings.with_webhook_secret()
    and, when the route already exists, its application.
    """
    mode = settings.mode
    if mode is Mode.API:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set")
    kb = service.catalog  # loaded and validated when the engine was built, before we connect
    if not kb.entries:
        raise ConfigError("the knowledge base has no entries")
    if mode is Mode.WEBHOOK:
        settings = settings.with_webhook_secret()
    app = application or build_application(settings, service, webhook=mode is Mode.WEBHOOK, tuning=tuning)
    tuning = tuning or Tuning()
    sweeper: Sweeper | None = None
    try:
        await app.initialize()
        if register:
            await register_commands(app)
        await app.start()
        if isinstance(app.update_queue, InboxQueue):
            sweeper = Sweeper(app.update_queue, app.bot)
            await sweeper.sweep()
            sweeper.start()
        if mode is Mode.WEBHOOK:
            assert settings.webhook_url is not None and settings.webhook_secret is not None
            if register:
                await register_webhook(app, settings)
            logger.info(
                "telegram bot @%s: webhook mode, Telegram posts to %s",
                app.bot.username,
                _public_origin(settings.webhook_url),
            )
        else:
            if app.updater is None:
                raise ConfigError("polling needs an application built with webhook=False")
            await app.updater.start_polling(
                allowed_updates=list(ALLOWED_UPDATES), timeout=tuning.poll_timeout, bootstrap_retries=3
            )
            logger.info("telegram bot @%s: long polling mode", app.bot.username)
    except InvalidToken:
        if sweeper is not None:
            await sweeper.stop()
        await _close(app)
        # PTB's message quotes the token: say the same without it.
        raise ConfigError("Telegram rejected TELEGRAM_BOT_TOKEN") from None
    except BaseException:
        if sweeper is not None:
            await sweeper.stop()
        await _close(app)
        raise
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    return TelegramRunner(application=app, mode=mode, webhook_secret=secret, sweeper=sweeper)


async def register_commands(app: TelegramApplication | Bot) -> None:
    """Set every chat type's command menu."""
    bot = app if isinstance(app, Bot) else app.bot
    for scope, commands in COMMAND_SCOPES:
        await bot.set_my_commands(list(commands), scope=scope)


async def register_webhook(app: TelegramApplication | Bot, settings: Settings) -> None:
    """Point Telegram at WEBHOOK_URL with the secret token and the update types the bot handles."""
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    bot = app if isinstance(app, Bot) else app.bot
    await bot.set_webhook(
        url=settings.webhook_url,
        secret_token=settings.webhook_secret.get_secret_value(),
        allowed_updates=list(ALLOWED_UPDATES),
    )


async def setup_telegram(settings: Settings) -> str:
    """Register the command menus and the webhook (or remove it, for polling) once per deploy; say what was done.

    Several replicas share one bot: each `serve` registering on start would race the others, so with
    DATABASE_URL set they do not, and this runs once instead. The webhook secret must be the replicas' own,
    so it is never generated here.
    """
    if settings.telegram_bot_token is None:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set")
    if settings.mode is Mode.WEBHOOK and not settings.webhook_secret:
        raise ConfigError("WEBHOOK_SECRET is required with WEBHOOK_URL: every replica must check the same secret")
    token = settings.telegram_bot_token.get_secret_value()
    protect_logs(token)
    base_url = settings.telegram_base_url or "https://api.telegram.org/bot"
    bot = Bot(token, base_url=base_url)
    try:
        await bot.initialize()
        username = bot.username
        await register_commands(bot)
        if settings.webhook_url:
            await register_webhook(bot, settings)
            done = f"commands set; webhook set to {_public_origin(settings.webhook_url)}"
        else:
            await bot.delete_webhook()
            done = "commands set; no webhook (polling)"
    except InvalidToken:
        raise ConfigError("Telegram rejected TELEGRAM_BOT_TOKEN") from None
    finally:
        await bot.shutdown()
    logger.info("telegram setup for @%s: %s", username, done)
    return f"@{username}: {done}"
