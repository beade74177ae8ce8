"""A fake WeChat server: signs, (in safe mode) encrypts and posts messages exactly as WeChat does."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

import httpx
from defusedxml.ElementTree import fromstring

from bot.wechat.crypto import MessageCrypto, signature

TOKEN = "hohhot-test-token"
APP_ID = "wx1234567890abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ACCOUNT = "gh_hohhot_account"
OPENID = "oAbCdEfGhIjKlMnOpQrStUvWxYz0"


def message_xml(msg_type: str, *, msg_id: str | None = None, openid: str = OPENID, **fields: str) -> str:
    """Return the XML WeChat posts for one message or event (fields: Content, Event, Recognition…)."""
    body = "".join(f"<{name}><![CDATA[{value}]]></{name}>" for name, value in fields.items())
    ident = f"<MsgId>{msg_id}</MsgId>" if msg_id is not None else ""
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{body}{ident}</xml>"
    )


@dataclass
class FakeWeChat:
    """Posts to /wechat as WeChat does; `safe` encrypts with the account's EncodingAESKey."""

    client: httpx.AsyncClient
    safe: bool = False
    token: str = TOKEN
    crypto: MessageCrypto = field(default_factory=lambda: MessageCrypto(AES_KEY, APP_ID))

    def query(self, timestamp: int | None = None, **extra: str) -> dict[str, str]:
        """Return a signed query: timestamp, nonce and signature over the sorted token, timestamp, nonce."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = str(secrets.randbelow(10**9))
        return {"timestamp": ts, "nonce": nonce, "signature": signature(self.token, ts, nonce), **extra}

    async def verify(self, echostr: str = "hello-echo", **query: str) -> httpx.Response:
        """GET the server URL check."""
        return await self.client.get("/wechat", params={**self.query(), "echostr": echostr, **query})

    async def post_raw(self, body: bytes, query: dict[str, str] | None = None) -> httpx.Response:
        """POST a body as it is, with a signed query."""
        params = query or self.query()
        return await self.client.post("/wechat", params=params, content=body, headers={"Content-Type": "text/xml"})

    async def post(self, xml: str, timestamp: int | None = None) -> httpx.Response:
        """POST a message, encrypted and msg_signature-signed in safe mode."""
        query = self.query(timestamp)
        if not self.safe:
            return await self.post_raw(xml.encode(), query)
        encrypt = self.crypto.encrypt(xml)
        query.update(
            encrypt_type="aes",
            msg_signature=signature(self.token, query["timestamp"], query["nonce"], encrypt),
            openid=OPENID,
        )
        envelope = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        response = await self.post_raw(envelope.encode(), query)
        response.extensions["query"] = query
        return response

    def reply(self, response: httpx.Response) -> dict[str, str]:
        """Return the fields of a passive reply, checking signature and decrypting it in safe mode."""
        assert response.status_code == 200, response.text
        fields = {child.tag: child.text or "" for child in fromstring(response.content)}
        if not self.safe:
            return fields
        query = response.extensions["query"]
        assert fields["TimeStamp"] == query["timestamp"] and fields["Nonce"] == query["nonce"]
        assert fields["MsgSignature"] == signature(self.token, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
        return {child.tag: child.text or "" for child in fromstring(self.crypto.decrypt(fields["Encrypt"]))}


CORP_ID = "ww0123456789abcdef"
WECOM_TOKEN = "wecom-test-token"
WECOM_AES_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"


@dataclass
class FakeWeCom:
    """Posts to /wecom as WeCom does: always encrypted, signed with msg_signature only."""

    client: httpx.AsyncClient
    token: str = WECOM_TOKEN
    crypto: MessageCrypto = field(default_factory=lambda: MessageCrypto(WECOM_AES_KEY, CORP_ID))

    def query(self, encrypt: str, timestamp: int | None = None) -> dict[str, str]:
        """Return a query signed over the sorted token, timestamp, nonce and ciphertext."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = str(secrets.randbelow(10**9))
        return {"timestamp": ts, "nonce": nonce, "msg_signature": signature(self.token, ts, nonce, encrypt)}

    async def verify(self, echo: str) -> httpx.Response:
        """GET the URL check with an encrypted echostr."""
        echostr = self.crypto.encrypt(echo)
        return await self.client.get("/wecom", params={**self.query(echostr), "echostr": echostr})

    async def post(self, xml: str, timestamp: int | None = None) -> httpx.Response:
        """POST an encrypted message."""
        encrypt = self.crypto.encrypt(xml)
        query = self.query(encrypt, timestamp)
        envelope = (
            f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID>"
            f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        )
        response = await self.client.post("/wecom", params=query, content=envelope.encode())
        response.extensions["query"] = query
        return response

    def reply(self, response: httpx.Response) -> dict[str, str]:
        """Return the fields of an encrypted passive reply, checking its signature."""
        assert response.status_code == 200, response.text
        fields = {child.tag: child.text or "" for child in fromstring(response.content)}
        query = response.extensions["query"]
        assert fields["MsgSignature"] == signature(self.token, query["timestamp"], query["nonce"], fields["Encrypt"])
        return {child.tag: child.text or "" for child in fromstring(self.crypto.decrypt(fields["Encrypt"]))}
