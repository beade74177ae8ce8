"""`python -m bot setup` registers the webhook and the command menus once per deploy, against the fake Bot API."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from bot_harness import SECRET, TOKEN, make_settings
from fake_bot_api import FakeBotApi

from bot.config import ConfigError
from bot.telegram import setup_telegram

ROOT = Path(__file__).resolve().parents[2]


async def test_setup_sets_the_webhook_with_its_secret_and_every_menu(api: FakeBotApi) -> None:
    settings = make_settings(api, webhook_url="https://bot.example.org/telegram/webhook", webhook_secret=SECRET)
    done = await setup_telegram(settings)
    assert api.webhook == {"url": "https://bot.example.org/telegram/webhook", "secret_token": SECRET}
    assert set(api.scoped_commands) == {"default", "all_private_chats", "all_group_chats"}
    assert "bot.example.org" in done and SECRET not in done and TOKEN not in done


async def test_setup_without_a_webhook_url_removes_the_webhook(api: FakeBotApi) -> None:
    api.webhook = {"url": "https://old.example.org/hook", "secret_token": None}
    await setup_telegram(make_settings(api))
    assert api.webhook is None
    assert api.scoped_commands


async def test_setup_refuses_to_invent_a_webhook_secret(api: FakeBotApi) -> None:
    settings = make_settings(api, webhook_url="https://bot.example.org/telegram/webhook")
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        await setup_telegram(settings)
    assert api.webhook is None and not api.calls


async def test_the_setup_command_runs_against_the_configured_api(api: FakeBotApi, tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "JIEBA_CACHE_DIR": os.environ.get("JIEBA_CACHE_DIR", str(tmp_path / "jieba")),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": api.base_url,
        "WEBHOOK_URL": "https://bot.example.org/telegram/webhook",
        "WEBHOOK_SECRET": SECRET,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "setup",
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert "webhook set" in out.decode()
    assert TOKEN not in out.decode() + err.decode() and SECRET not in out.decode() + err.decode()
    assert api.webhook == {"url": "https://bot.example.org/telegram/webhook", "secret_token": SECRET}
