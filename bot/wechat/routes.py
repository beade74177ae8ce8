"""The `/wechat` route of an Official Account: verify, parse (decrypt), ask the service, reply (encrypt).

Handlers stay thin: everything WeChat-specific is in crypto.py and xml.py, answers come from the service.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.http.app import read_body
from bot.http.errors import ApiError
from bot.http.limits import MAX_QUESTION_CHARS
from bot.service import Asker, Assistant
from bot.wechat.crypto import CryptoError, MessageCrypto, signature, signature_ok
from bot.wechat.memory import LruReplyCache, ReplyCache
from bot.wechat.xml import Message, XmlError, encrypted_reply, parse_fields, parse_message, text_reply

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
REPLAY_WINDOW_SECONDS = 300
CHANNEL = "wechat"
TEXT_ONLY = "目前只能回答文字消息，请用文字提问，例如：企业开办要几天？"
TOO_LONG = f"问题太长了：请用不超过 {MAX_QUESTION_CHARS} 个字描述您的问题。"


class Refusal(Exception):
    """A request refused with an HTTP status and a short Chinese reason (plain text, as WeChat expects)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class WeChatConfig:
    """What the route needs: the token, and for safe mode the EncodingAESKey and the app id it encrypts for.

    `wecom` selects WeCom's variant: always encrypted (the app id is the corp id), only `msg_signature` in the
    query, and an encrypted echostr in the URL verification.
    """

    token: str
    app_id: str | None = None
    aes_key: str | None = None
    wecom: bool = False


class WeChatEndpoint:
    """GET verifies the server URL; POST answers one message with a passive reply."""

    def __init__(
        self,
        service: Assistant,
        config: WeChatConfig,
        *,
        replies: ReplyCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.service = service
        self.token = config.token
        self.wecom = config.wecom
        self.channel = "wecom" if config.wecom else CHANNEL
        if config.wecom and not config.aes_key:
            raise ValueError("WeCom needs an EncodingAESKey")
        self.crypto = MessageCrypto(config.aes_key, config.app_id or "") if config.aes_key else None
        # In-memory for now; both move into the store with the assistant façade's conversation state.
        self.replies: ReplyCache = replies if replies is not None else LruReplyCache()
        self.clock = clock
        self._memory_salt = secrets.token_bytes(16)

    async def handle(self, request: Request) -> Response:
        """Answer GET (verification) and POST (messages); refusals are plain text with a 4xx status."""
        try:
            if request.method == "GET":
                return self.verify(request)
            return await self.message(request)
        except Refusal as exc:
            logger.info("wechat: refused %s (%d)", request.method, exc.status)
            return PlainTextResponse(exc.message, status_code=exc.status)
        except ApiError as exc:  # the shared body reader: 413 on oversized bodies
            return PlainTextResponse(exc.message, status_code=exc.status)
        except ClientDisconnect:
            return PlainTextResponse("客户端在请求体传完之前断开了连接。", status_code=400)

    def _signed(self, request: Request) -> tuple[str, str]:
        """Check the query signature and the replay window; return timestamp and nonce."""
        query = request.query_params
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        if not timestamp.isdigit() or not nonce:
            raise Refusal(403, "签名参数不完整。")
        if not self.wecom and not signature_ok(query.get("signature"), self.token, timestamp, nonce):
            raise Refusal(403, "签名无效。")
        if abs(self.clock() - int(timestamp)) > REPLAY_WINDOW_SECONDS:
            raise Refusal(403, "时间戳已过期（超过 5 分钟），请求被拒绝。")
        return timestamp, nonce

    def verify(self, request: Request) -> Response:
        """GET /wechat: answer the echostr when the signature over token, timestamp and nonce matches."""
        timestamp, nonce = self._signed(request)
        echostr = request.query_params.get("echostr", "")
        if not self.wecom:
            return PlainTextResponse(echostr)
        assert self.crypto is not None
        if not signature_ok(request.query_params.get("msg_signature"), self.token, timestamp, nonce, echostr):
            raise Refusal(403, "消息签名无效。")
        try:
            return PlainTextResponse(self.crypto.decrypt(echostr))
        except CryptoError:
            raise Refusal(400, "echostr 无法解密。") from None

    async def message(self, request: Request) -> Response:
        """POST /wechat: one message or event, answered with a passive (in safe mode encrypted) text reply."""
        timestamp, nonce = self._signed(request)
        body = await read_body(request, MAX_BODY_BYTES)
        try:
            message = parse_message(body) if self.crypto is None else self._decrypt(request, body, timestamp, nonce)
        except XmlError as exc:
            raise Refusal(400, str(exc)) from None
        reply = await self._reply_text(message)
        xml = text_reply(message, reply, int(self.clock()))
        if self.crypto is not None:
            encrypt = self.crypto.encrypt(xml)
            xml = encrypted_reply(encrypt, signature(self.token, timestamp, nonce, encrypt), timestamp, nonce)
        return Response(xml, media_type="application/xml")

    def _decrypt(self, request: Request, body: bytes, timestamp: str, nonce: str) -> Message:
        assert self.crypto is not None
        if not self.wecom and request.query_params.get("encrypt_type", "").lower() != "aes":
            raise Refusal(403, "安全模式下只接受加密消息（encrypt_type=aes）。")
        envelope = parse_message_envelope(body)
        if not signature_ok(request.query_params.get("msg_signature"), self.token, timestamp, nonce, envelope):
            raise Refusal(403, "消息签名无效。")
        try:
            plain = self.crypto.decrypt(envelope)
        except CryptoError:
            raise Refusal(400, "消息无法解密。") from None
        return parse_message(plain.encode("utf-8"))

    def _user_key(self, openid: str) -> str:
        """Return a salted hash of an OpenID (or a key holding one) for the in-memory caches."""
        return hashlib.sha256(self._memory_salt + openid.encode("utf-8")).hexdigest()

    async def _reply_text(self, message: Message) -> str:
        key = self._user_key(message.dedup_key)  # event keys hold the OpenID: keep only a salted hash
        cached = self.replies.get(key)
        if cached is not None:
            logger.info("wechat: retry of a message answered already")
            return cached
        reply = await self._answer(message)
        self.replies.put(key, reply)
        return reply

    async def _answer(self, message: Message) -> str:
        if message.msg_type == "event":
            return self.greeting() if message.event == "subscribe" else TEXT_ONLY
        if message.msg_type == "text":
            question = message.content
        elif message.msg_type == "voice" and message.recognition:
            question = message.recognition
        else:
            return TEXT_ONLY
        if len(question) > MAX_QUESTION_CHARS:
            return TOO_LONG
        # The chat is the user: a bare number answers that choice of the last reply (the façade keeps them).
        asker = Asker(self.channel, chat_type="private", chat_id=message.from_user, user_id=message.from_user)
        answer = (await self.service.ask(question, asker, message_id=message.dedup_key)).answer
        text = answer.text
        if answer.suggestions:
            text += "\n回复数字即可选择对应的问题。"
        return text

    def greeting(self) -> str:
        """Return the subscribe greeting: what the assistant knows, with example questions."""
        service = self.service
        examples = [e[0].questions[0] for t in service.topics() if (e := service.topic_entries(t.id))][:3]
        lines = "\n".join(f"{i}. {q}" for i, q in enumerate(examples, 1))
        return (
            "您好！我是呼和浩特营商环境与政务服务问答助手，答案都来自公开报道，并注明出处。\n"
            f"直接发送文字问题即可，例如：\n{lines}"
        )


def parse_message_envelope(body: bytes) -> str:
    """Return the Encrypt element of a safe-mode body, or raise XmlError."""
    encrypt = parse_fields(body).get("Encrypt", "")
    if not encrypt:
        raise XmlError("安全模式的 XML 缺少 Encrypt 字段。")
    return encrypt


def wechat_route(service: Assistant, config: WeChatConfig, path: str = "/wechat") -> Route:
    """Return the Official Account's (or with `config.wecom`, a WeCom app's) route on the service."""
    return Route(path, WeChatEndpoint(service, config).handle, methods=["GET", "POST"])
