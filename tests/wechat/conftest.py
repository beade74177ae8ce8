"""The app with /wechat on the real engine, in plain and in safe mode, and a fake WeChat posting to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fake_wechat import AES_KEY, APP_ID, TOKEN, FakeWeChat

from bot.config import Settings
from bot.http import create_app
from bot.service import AskEvent, Assistant
from intents import Engine


@pytest.fixture
def asked() -> list[AskEvent]:
    """Every question the service was asked during a test."""
    return []


@pytest.fixture(params=["plain", "safe"])
async def wechat(request: pytest.FixtureRequest, engine: Engine, asked: list[AskEvent]) -> AsyncIterator[FakeWeChat]:
    """Return a fake WeChat posting to the app, once in plain mode and once in safe mode."""
    safe = request.param == "safe"
    settings = Settings(wechat_token=TOKEN, wechat_app_id=APP_ID, wechat_aes_key=AES_KEY if safe else None)
    service = Assistant(engine, salt="test-salt")
    service.subscribe(asked.append)
    app = create_app(service, settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://wechat.test") as client:
        yield FakeWeChat(client, safe=safe)
