"""Starting and stopping the bot: commands registered, the mode logged, the token never logged."""

from __future__ import annotations

import logging

import pytest
import telegram_factories as tf
from bot_harness import FAST, SECRET, TOKEN, RunningBot, make_settings
from fake_bot_api import FakeBotApi

from bot.config import ConfigError, Settings
from bot.service import Assistant
from bot.telegram import COMMANDS, start_telegram


async def test_commands_are_registered_at_start(bot: RunningBot) -> None:
    assert [c["command"] for c in bot.api.commands] == [c.command for c in COMMANDS]
    assert {"start", "help", "topics", "ask", "hotline"} <= {c["command"] for c in bot.api.commands}


async def test_each_chat_type_gets_its_own_command_menu(bot: RunningBot) -> None:
    private = [c["command"] for c in bot.api.scoped_commands["all_private_chats"]]
    groups = [c["command"] for c in bot.api.scoped_commands["all_group_chats"]]
    assert private == [c.command for c in COMMANDS]
    assert "start" not in groups and {"ask", "topics", "hotline", "help"} <= set(groups)


async def test_polling_mode_removes_a_left_over_webhook_and_polls(api: FakeBotApi, service: Assistant) -> None:
    api.webhook = {"url": "https://old.example.org/hook", "secret_token": None}
    runner = await start_telegram(make_settings(api), service, tuning=FAST)
    try:
        assert runner.mode == "polling" and api.webhook is None
        await api.wait_for(lambda: "getUpdates" in [m for m, _ in api.calls])
        u = tf.user()
        await api.send(tf.private_chat(u), u, "企业开办要几天")
        await api.wait_replies(u["id"])
    finally:
        await runner.stop()


@pytest.mark.parametrize("bot", ["webhook"], indirect=True)
async def test_webhook_mode_registers_the_url_with_the_secret(bot: RunningBot) -> None:
    assert bot.runner.mode == "webhook" and bot.runner.webhook_secret == SECRET
    assert bot.runner.application.updater is None
    assert bot.api.webhook == {"url": bot.settings.webhook_url, "secret_token": SECRET}
    assert "getUpdates" not in [m for m, _ in bot.api.calls]


async def test_a_webhook_secret_is_generated_when_none_is_set(api: FakeBotApi, service: Assistant) -> None:
    settings = make_settings(api, webhook_url="https://bot.example.org/telegram/webhook")
    runner = await start_telegram(settings, service, tuning=FAST)
    try:
        assert runner.webhook_secret and len(runner.webhook_secret) >= 32
        assert api.webhook == {"url": "https://bot.example.org/telegram/webhook", "secret_token": runner.webhook_secret}
    finally:
        await runner.stop()


async def test_the_mode_is_logged_but_never_the_token_nor_what_users_say(
    api: FakeBotApi, service: Assistant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "telegram"):
        logging.getLogger(name).setLevel(logging.NOTSET)  # as a fresh process with LOG_LEVEL=debug has them
    runner = await start_telegram(make_settings(api), service, tuning=FAST)
    try:
        u = tf.user(user_id=987_654_321)
        await api.send(tf.private_chat(u), u, "私人问题：企业开办要几天")
        await api.wait_replies(u["id"])
    finally:
        await runner.stop()
    assert "long polling mode" in caplog.text
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text
    assert "987654321" not in caplog.text and "私人问题" not in caplog.text


async def test_no_token_is_a_configuration_error(service: Assistant) -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        await start_telegram(Settings(), service)


async def test_a_rejected_token_is_a_configuration_error_that_does_not_quote_it(
    api: FakeBotApi, service: Assistant
) -> None:
    settings = make_settings(api, telegram_bot_token="42:wrong-token")
    with pytest.raises(ConfigError, match="rejected") as raised:
        await start_telegram(settings, service, tuning=FAST)
    assert "wrong-token" not in str(raised.value) and raised.value.__suppress_context__


async def test_stop_is_clean_and_final(api: FakeBotApi, service: Assistant) -> None:
    runner = await start_telegram(make_settings(api), service, tuning=FAST)
    await runner.stop()
    assert not runner.application.running
    calls = len(api.calls)
    u = tf.user()
    await api.send(tf.private_chat(u), u, "企业开办要几天")
    await api.wait_for(lambda: api.pending == 1)
    assert len(api.calls) == calls and api.replies(u["id"]) == []
