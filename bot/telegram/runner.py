"""Start and stop the bot for `serve`: long polling by default, the webhook when WEBHOOK_URL is set."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from telegram.error import InvalidToken

from bot.config import ConfigError, Settings
from bot.service import Assistant
from bot.telegram.app import ALLOWED_UPDATES, COMMAND_SCOPES, TelegramApplication, Tuning, build_application

logger = logging.getLogger(__name__)

Mode = Literal["polling", "webhook"]


@dataclass(frozen=True, slots=True)
class TelegramRunner:
    """A started bot: its application, how it receives updates and, in webhook mode, the secret Telegram sends."""

    application: TelegramApplication
    mode: Mode
    webhook_secret: str | None = None

    async def stop(self) -> None:
        """Stop receiving updates, finish the ones in hand and release the connections."""
        await _close(self.application)
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
) -> TelegramRunner:
    """Check the setup, connect, register the commands, then poll or register the webhook.

    In webhook mode the updates arrive through the HTTP server's POST /telegram/webhook, which must be built
    with the same application and secret: pass settings that went through Settings.with_webhook_secret()
    and, when the route already exists, its application.
    """
    if not settings.telegram_bot_token:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set")
    kb = service.catalog  # loaded and validated when the engine was built, before we connect
    if not kb.entries:
        raise ConfigError("the knowledge base has no entries")
    mode: Mode = "webhook" if settings.webhook_url else "polling"
    if mode == "webhook":
        settings = settings.with_webhook_secret()
    app = application or build_application(settings, service, webhook=mode == "webhook", tuning=tuning)
    tuning = tuning or Tuning()
    try:
        await app.initialize()
        for scope, commands in COMMAND_SCOPES:
            await app.bot.set_my_commands(list(commands), scope=scope)
        await app.start()
        if mode == "webhook":
            assert settings.webhook_url is not None and settings.webhook_secret is not None
            await app.bot.set_webhook(
                url=settings.webhook_url, secret_token=settings.webhook_secret, allowed_updates=list(ALLOWED_UPDATES)
            )
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
        await _close(app)
        # PTB's message quotes the token: say the same without it.
        raise ConfigError("Telegram rejected TELEGRAM_BOT_TOKEN") from None
    except BaseException:
        await _close(app)
        raise
    return TelegramRunner(application=app, mode=mode, webhook_secret=settings.webhook_secret)
