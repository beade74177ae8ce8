"""Whatever WeChat (or someone pretending to be it) posts, /wechat answers with a clear status, never a 500."""

from __future__ import annotations

import random

from fake_wechat import FakeWeChat, message_xml

from bot.service import AskEvent

NASTY_BODIES = [
    b"\x00\x01\x02",
    b"\xff\xfe<\x00x\x00m\x00l\x00>\x00",  # UTF-16 without a declaration
    b"<xml>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</xml>",  # deep nesting
    b"<xml>" + b"<F>x</F>" * 2000 + b"</xml>",  # far more fields than a message has
    b'<xml a="' + b"x" * 60_000 + b'"/>',
    b"<xml><ToUserName>u</ToUserName><FromUserName>f</FromUserName><MsgType>text</MsgType><Content>\x07</Content></xml>",
    b'<?xml version="1.0" encoding="bogus"?><xml/>',
    b"<?xml-stylesheet href='http://example.invalid/x.xsl'?><xml/>",
    b"<x:xml xmlns:x='urn:x'/>",
]


async def test_nasty_bodies_get_a_4xx_and_nothing_is_asked(wechat: FakeWeChat, asked: list[AskEvent]) -> None:
    rng = random.Random(11)
    bodies = [*NASTY_BODIES, *(rng.randbytes(rng.randrange(1, 4000)) for _ in range(30))]
    for body in bodies:
        response = await wechat.post(body.decode("latin-1")) if wechat.safe else await wechat.post_raw(body)
        assert 400 <= response.status_code < 500, (body[:60], response.status_code, response.text)
        assert response.text.strip(), "a refusal says why"
    assert asked == []


async def test_html_emoji_and_zero_width_questions_get_a_well_formed_reply(wechat: FakeWeChat) -> None:
    for n, question in enumerate(
        ["<script>alert(1)</script>", "😀😀😀", "\u200b\u200b", "企业开办\u200b要几天？？", " "]
    ):
        reply = wechat.reply(await wechat.post(message_xml("text", msg_id=f"77{n}", Content=question)))
        assert reply["MsgType"] == "text"
        assert reply["Content"].strip(), question
        assert "<script>" not in reply["Content"]
