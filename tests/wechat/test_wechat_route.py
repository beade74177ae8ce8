"""/wechat as an Official Account sees it: verification, questions, retries, events and refusals."""

from __future__ import annotations

import logging
import time

import pytest
from fake_wechat import ACCOUNT, OPENID, TOKEN, FakeWeChat, message_xml

from bot.logging_setup import RedactFilter
from bot.service import AskEvent


async def test_server_url_verification_answers_the_echostr(wechat: FakeWeChat) -> None:
    response = await wechat.verify(echostr="7364528109")
    assert response.status_code == 200
    assert response.text == "7364528109"


async def test_verification_with_a_bad_signature_is_403(wechat: FakeWeChat) -> None:
    response = await wechat.verify(signature="0" * 40)
    assert response.status_code == 403
    assert "7364528109" not in response.text


async def test_a_text_question_is_answered_with_the_figure_and_the_source(
    wechat: FakeWeChat, asked: list[AskEvent]
) -> None:
    reply = wechat.reply(await wechat.post(message_xml("text", msg_id="1001", Content="企业开办要几天")))
    assert reply["ToUserName"] == OPENID
    assert reply["FromUserName"] == ACCOUNT
    assert reply["MsgType"] == "text"
    assert abs(int(reply["CreateTime"]) - time.time()) < 60
    content = reply["Content"]
    assert "0.5个工作日" in content
    assert "来源：" in content
    assert "<" not in content and "*" not in content  # plain text, no markup
    assert [event.channel for event in asked] == ["wechat"]
    assert asked[0].user_hash is not None and OPENID not in asked[0].user_hash


async def test_logs_carry_neither_the_openid_nor_the_token(
    wechat: FakeWeChat, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await wechat.post(message_xml("text", msg_id="1101", Content="企业开办要几天"))
    await wechat.post(message_xml("text", msg_id="1101", Content="企业开办要几天"))
    await wechat.post(message_xml("image", msg_id="1102", PicUrl="http://example.invalid/p.jpg"))
    await wechat.post(message_xml("text", msg_id="1103", Content="x"), timestamp=1)
    server = [r for r in caplog.records if not r.name.startswith("httpx")]  # httpx: the fake WeChat's own log
    assert server, "the refusal and the retry are logged"
    assert all(OPENID not in r.getMessage() and TOKEN not in r.getMessage() for r in server)


def test_access_log_lines_do_not_show_the_openid() -> None:
    # uvicorn's access log record, as LOG_LEVEL=debug writes it for a safe-mode post.
    args = ("127.0.0.1:5000", "POST", f"/wechat?signature=ab&nonce=1&openid={OPENID}&encrypt_type=aes", "1.1", 200)
    record = logging.LogRecord("uvicorn.access", logging.INFO, "h.py", 1, '%s - "%s %s HTTP/%s" %d', args, None)
    RedactFilter(()).filter(record)
    assert OPENID not in record.getMessage()
    assert "openid=[REDACTED]&encrypt_type=aes" in record.getMessage()


async def test_a_retried_msg_id_gets_the_same_reply_and_is_asked_once(
    wechat: FakeWeChat, asked: list[AskEvent]
) -> None:
    xml = message_xml("text", msg_id="2002", Content="企业开办要几天")
    replies = [wechat.reply(await wechat.post(xml))["Content"] for _ in range(3)]
    assert replies[0] == replies[1] == replies[2]
    assert "0.5个工作日" in replies[0]
    assert len(asked) == 1


async def test_suggestions_are_numbered_and_answered_by_number(wechat: FakeWeChat, asked: list[AskEvent]) -> None:
    first = wechat.reply(await wechat.post(message_xml("text", msg_id="3001", Content="办事")))["Content"]
    if not asked[0].answer.suggestions:  # the engine decides; find an unsure question among a few vague ones
        for n, vague in enumerate(["企业", "营商环境", "服务"]):
            first = wechat.reply(await wechat.post(message_xml("text", msg_id=f"30{n + 2}", Content=vague)))["Content"]
            if asked[-1].answer.suggestions:
                break
    suggestions = asked[-1].answer.suggestions
    assert suggestions, "none of the vague questions got suggestions"
    assert f"1. {suggestions[0].question}" in first
    picked = wechat.reply(await wechat.post(message_xml("text", msg_id="3999", Content="1")))["Content"]
    assert asked[-1].answer.question == suggestions[0].question
    assert picked == asked[-1].answer.text


async def test_subscribe_gets_a_greeting_with_example_questions(wechat: FakeWeChat, asked: list[AskEvent]) -> None:
    content = wechat.reply(await wechat.post(message_xml("event", Event="subscribe")))["Content"]
    assert "您好" in content
    assert "1. " in content and "2. " in content
    assert asked == []


async def test_non_text_messages_are_asked_for_text(wechat: FakeWeChat, asked: list[AskEvent]) -> None:
    for n, (kind, fields) in enumerate(
        [
            ("image", {"PicUrl": "http://example.invalid/p.jpg", "MediaId": "m"}),
            ("voice", {"MediaId": "m", "Format": "amr"}),
            ("location", {"Location_X": "40.8", "Location_Y": "111.7", "Scale": "15", "Label": "呼和浩特"}),
            ("link", {"Title": "t", "Description": "d", "Url": "http://example.invalid"}),
        ]
    ):
        content = wechat.reply(await wechat.post(message_xml(kind, msg_id=f"400{n}", **fields)))["Content"]
        assert "请用文字提问" in content, kind
    assert asked == []


async def test_voice_with_recognition_is_treated_as_text(wechat: FakeWeChat, asked: list[AskEvent]) -> None:
    xml = message_xml("voice", msg_id="5001", MediaId="m", Format="amr", Recognition="企业开办要几天")
    assert "0.5个工作日" in wechat.reply(await wechat.post(xml))["Content"]
    assert len(asked) == 1


async def test_a_bad_signature_is_403_and_nothing_is_asked(wechat: FakeWeChat, asked: list[AskEvent]) -> None:
    query = wechat.query()
    query["signature"] = "f" * 40
    response = await wechat.post_raw(message_xml("text", msg_id="6001", Content="企业开办要几天").encode(), query)
    assert response.status_code == 403
    assert asked == []


async def test_a_wrong_token_is_403(wechat: FakeWeChat, asked: list[AskEvent]) -> None:
    wechat.token = TOKEN + "x"
    response = await wechat.post(message_xml("text", msg_id="6002", Content="企业开办要几天"))
    assert response.status_code == 403
    assert asked == []


async def test_a_replayed_timestamp_is_refused(wechat: FakeWeChat, asked: list[AskEvent]) -> None:
    old = int(time.time()) - 301
    response = await wechat.post(message_xml("text", msg_id="7001", Content="企业开办要几天"), timestamp=old)
    assert response.status_code == 403
    assert "5 分钟" in response.text
    assert asked == []


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "hahahahaha">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    + "]><xml><ToUserName>u</ToUserName><FromUserName>f</FromUserName><MsgType>text</MsgType>"
    "<Content>&i;</Content></xml>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    "<xml><ToUserName>u</ToUserName><FromUserName>f</FromUserName><MsgType>text</MsgType><Content>&x;</Content></xml>"
)
BARE_DOCTYPE = (
    "<!DOCTYPE xml><xml><ToUserName>u</ToUserName><FromUserName>f</FromUserName><MsgType>text</MsgType></xml>"
)


async def test_doctype_and_entities_are_refused_with_400(wechat: FakeWeChat, asked: list[AskEvent]) -> None:
    for xml in (BILLION_LAUGHS, EXTERNAL_ENTITY, BARE_DOCTYPE):
        response = await wechat.post(xml)
        assert response.status_code == 400, response.text
        assert "DOCTYPE" in response.text
    assert asked == []


async def test_malformed_xml_is_refused_with_400(wechat: FakeWeChat, asked: list[AskEvent]) -> None:
    for body in ("", "not xml", "<xml><Content>", "<html></html>", "<xml><ToUserName>u</ToUserName></xml>", "😀"):
        response = await wechat.post(body)
        assert response.status_code == 400, (body, response.status_code, response.text)
    assert asked == []


async def test_an_oversized_body_is_413(wechat: FakeWeChat, asked: list[AskEvent]) -> None:
    big = message_xml("text", msg_id="8001", Content="企" * 30_000)
    response = await wechat.post_raw(big.encode(), wechat.query())
    assert response.status_code == 413

    async def stream() -> object:  # no Content-Length: the cap holds on the streamed body
        for _ in range(100):
            yield b"<a>" + b"x" * 1024 + b"</a>"

    response = await wechat.client.post("/wechat", params=wechat.query(), content=stream())  # type: ignore[arg-type]
    assert response.status_code == 413
    assert asked == []
