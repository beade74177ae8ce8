"""/wecom as a WeCom self-built app sees it: encrypted verification, encrypted questions and replies, refusals."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fake_wechat import CORP_ID, OPENID, WECOM_AES_KEY, WECOM_TOKEN, FakeWeCom, message_xml
from starlette.applications import Starlette
from starlette.routing import Route

from bot.config import Settings
from bot.http import create_app
from bot.service import AskEvent, Assistant
from bot.wechat.routes import WeChatConfig, WeChatEndpoint
from intents import Engine


@pytest.fixture
async def wecom(engine: Engine, asked: list[AskEvent]) -> AsyncIterator[FakeWeCom]:
    settings = Settings(wecom_token=WECOM_TOKEN, wecom_aes_key=WECOM_AES_KEY, wecom_corp_id=CORP_ID)
    service = Assistant(engine, salt="test-salt")
    service.subscribe(asked.append)
    app = create_app(service, settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://wecom.test") as client:
        yield FakeWeCom(client)


async def test_url_verification_decrypts_the_echostr(wecom: FakeWeCom) -> None:
    response = await wecom.verify("1234567890123456789")
    assert response.status_code == 200
    assert response.text == "1234567890123456789"


async def test_url_verification_of_wecoms_worked_example(engine: Engine) -> None:
    # The documented values in wechatpy's tests/test_crypto.py (token 123456, corp id wx49f0ab532d5d035a).
    config = WeChatConfig("123456", "wx49f0ab532d5d035a", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", wecom=True)
    endpoint = WeChatEndpoint(Assistant(engine), config, clock=lambda: 1411443780)
    app = Starlette(routes=[Route("/wecom", endpoint.handle, methods=["GET", "POST"])])
    query = {
        "msg_signature": "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96",
        "timestamp": "1411443780",
        "nonce": "437374425",
        "echostr": "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==",
    }
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://wecom.test") as client:
        ok = await client.get("/wecom", params=query)
        bad = await client.get("/wecom", params={**query, "nonce": "437374424"})
    assert ok.status_code == 200 and ok.text.isdigit()
    assert bad.status_code == 403


async def test_a_question_gets_an_encrypted_answer_once_per_msg_id(wecom: FakeWeCom, asked: list[AskEvent]) -> None:
    xml = message_xml("text", msg_id="9001", Content="企业开办要几天")
    first = wecom.reply(await wecom.post(xml))
    again = wecom.reply(await wecom.post(xml))
    assert first["ToUserName"] == OPENID and first["MsgType"] == "text"
    assert "0.5个工作日" in first["Content"] and "来源：" in first["Content"]
    assert again["Content"] == first["Content"]
    assert [event.channel for event in asked] == ["wecom"]


async def test_wecom_refuses_bad_signatures_replays_and_doctype(wecom: FakeWeCom, asked: list[AskEvent]) -> None:
    wecom.token = "wrong"
    assert (await wecom.post(message_xml("text", msg_id="9101", Content="企业开办要几天"))).status_code == 403
    wecom.token = WECOM_TOKEN
    old = int(time.time()) - 600
    assert (await wecom.post(message_xml("text", msg_id="9102", Content="企业开办要几天"), old)).status_code == 403
    doctype = '<!DOCTYPE x [<!ENTITY a "b">]><xml><ToUserName>u</ToUserName></xml>'
    response = await wecom.post(doctype)
    assert response.status_code == 400 and "DOCTYPE" in response.text
    assert asked == []
