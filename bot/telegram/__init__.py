"""The Telegram adapter: private chats, groups, channels and inline mode, over long polling or the webhook."""

from bot.telegram.app import COMMANDS, TelegramApplication, Tuning, build_application
from bot.telegram.inbox import InboxTuning
from bot.telegram.runner import TelegramRunner, setup_telegram, start_telegram
from bot.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH, telegram_webhook_route

__all__ = [
    "COMMANDS",
    "SECRET_HEADER",
    "WEBHOOK_PATH",
    "InboxTuning",
    "TelegramApplication",
    "TelegramRunner",
    "Tuning",
    "build_application",
    "setup_telegram",
    "start_telegram",
    "telegram_webhook_route",
]
