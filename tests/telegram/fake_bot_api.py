"""A fake Telegram Bot API server on 127.0.0.1 that speaks the real HTTP protocol, with fault injection.

It plays both sides a bot test needs: the users (who send messages, press buttons, type inline queries) and
Telegram's servers (getUpdates long polling or pushing to a webhook with the secret header; sendMessage,
editMessageText, answerCallbackQuery, answerInlineQuery, setMyCommands, ...). What the bot sends is kept as
the users would see it: plain text, the bold parts, buttons, which message it replies to.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl

import httpx
import telegram_factories as tf
import uvicorn
from fakes.servers import PromptServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

JSON = dict[str, Any]

# Values PTB sends as plain strings; every other form field is JSON encoded.
_STRING_FIELDS = frozenset(
    {
        "text",
        "parse_mode",
        "callback_query_id",
        "inline_query_id",
        "url",
        "secret_token",
        "inline_message_id",
        "next_offset",
        "language_code",
        "caption",
        "ip_address",
        "message_effect_id",
        "business_connection_id",
    }
)
_ALLOWED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "code",
        "pre",
        "a",
        "tg-spoiler",
        "blockquote",
        "span",
        "tg-emoji",
    }
)
_BAD_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")


class ApiError(Exception):
    """An error reply of the Bot API."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


@dataclass(frozen=True, slots=True)
class Button:
    """One inline keyboard button as the user sees it."""

    text: str
    callback_data: str | None


@dataclass(slots=True)
class BotMessage:
    """A message the bot sent, in its current state (after any edits)."""

    chat_id: int
    message_id: int
    text: str
    html: str
    bold: list[str]
    buttons: list[list[Button]]
    reply_to: int | None
    raw: JSON
    edits: int = 0
    sent_at: float = field(default_factory=time.perf_counter)
    """When the server received it (time.perf_counter)."""

    @property
    def button_texts(self) -> list[str]:
        """Return every button's text, row by row."""
        return [b.text for row in self.buttons for b in row]

    def button(self, text: str) -> Button:
        """Return the button with this text."""
        for row in self.buttons:
            for b in row:
                if b.text == text:
                    return b
        raise KeyError(f"no button {text!r} in {self.button_texts}")


@dataclass(frozen=True, slots=True)
class Fault:
    """What the server does instead of answering: 429 with retry_after, a 500, or a reply too late to wait for."""

    kind: str  # "429", "500" or "timeout"
    retry_after: float = 0.2
    delay: float = 3.0


@dataclass(slots=True)
class FaultPlan:
    """Faults to inject: queued for named methods, and/or at random for a share of all calls."""

    queued: dict[str, list[Fault]] = field(default_factory=dict)
    rate: float = 0.0
    kinds: tuple[Fault, ...] = ()
    methods: frozenset[str] | None = None
    rng: random.Random = field(default_factory=lambda: random.Random(12345))
    injected: list[tuple[str, str]] = field(default_factory=list)

    def fail_next(self, method: str, fault: Fault, times: int = 1) -> None:
        """Fail the next `times` calls of a method."""
        self.queued.setdefault(method, []).extend([fault] * times)

    def randomly(
        self, rate: float, kinds: Iterable[Fault], *, methods: Iterable[str] | None = None, seed: int = 7
    ) -> None:
        """Fail a share of calls (optionally only of some methods) with one of the given faults."""
        self.rate, self.kinds = rate, tuple(kinds)
        self.methods = frozenset(methods) if methods is not None else None
        self.rng = random.Random(seed)

    def pick(self, method: str) -> Fault | None:
        """Return the fault for this call, if any."""
        queue = self.queued.get(method)
        fault: Fault | None = None
        if queue:
            fault = queue.pop(0)
        elif self.rate and (self.methods is None or method in self.methods) and self.rng.random() < self.rate:
            fault = self.rng.choice(self.kinds)
        if fault is not None:
            self.injected.append((method, fault.kind))
        return fault


class _TelegramHtml(HTMLParser):
    """Parse Telegram's HTML subset into plain text and bold parts; reject what Telegram would reject."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.bold: list[str] = []
        self.stack: list[str] = []
        self._bold_start: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            raise ApiError(400, f'Bad Request: can\'t parse entities: unsupported start tag "{tag}"')
        self.stack.append(tag)
        if tag in ("b", "strong"):
            self._bold_start = len("".join(self.text))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise ApiError(400, f'Bad Request: can\'t parse entities: unexpected end tag "{tag}"')
        self.stack.pop()
        if tag in ("b", "strong") and self._bold_start is not None:
            self.bold.append("".join(self.text)[self._bold_start :])
            self._bold_start = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(html: str) -> tuple[str, list[str]]:
    """Return the plain text and bold parts of a Telegram HTML message, or raise ApiError(400)."""
    if _BAD_AMPERSAND.search(html):
        raise ApiError(400, "Bad Request: can't parse entities: unsupported HTML entity")
    parser = _TelegramHtml()
    parser.feed(html)
    parser.close()
    if parser.stack:
        raise ApiError(
            400, f"Bad Request: can't parse entities: can't find end tag corresponding to \"{parser.stack[-1]}\""
        )
    return "".join(parser.text), parser.bold


def _buttons(markup: JSON | None) -> list[list[Button]]:
    if not markup:
        return []
    rows = []
    for row in markup.get("inline_keyboard", []):
        buttons = []
        for b in row:
            data = b.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            buttons.append(Button(b["text"], data))
        rows.append(buttons)
    return rows


class FakeBotApi:
    """The fake server and its users; start with `async with FakeBotApi(token) as api`."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.faults = FaultPlan()
        self.calls: list[tuple[str, JSON]] = []
        self.sent: list[BotMessage] = []
        self.messages: dict[tuple[int, int], JSON] = {}
        self.bot_messages: dict[tuple[int, int], BotMessage] = {}
        self.callback_answers: dict[str, JSON] = {}
        self.inline_answers: dict[str, list[JSON]] = {}
        self.commands: list[JSON] = []
        """The default scope's menu."""
        self.scoped_commands: dict[str, list[JSON]] = {}
        """Each scope's menu, by scope type (default, all_private_chats, all_group_chats, chat…)."""
        self.webhook: JSON | None = None
        self.webhook_deliveries: list[int] = []
        self.chats: dict[int, JSON] = {}
        self._pending: list[JSON] = []
        self._allowed_updates: list[str] | None = None
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._query_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._closing = False
        self._pusher: asyncio.Task[None] | None = None
        self._server: PromptServer | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = 0
        self.app = Starlette(routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])])

    # --- lifecycle -------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Return the TELEGRAM_BASE_URL for this server (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def __aenter__(self) -> FakeBotApi:
        self._server, self._task, self.port = await start_server(self.app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing = True
        await self._notify()
        if self._pusher is not None:
            self._pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pusher
        assert self._server is not None and self._task is not None
        await stop_server(self._server, self._task)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- the users' side -------------------------------------------------------------------------------

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    async def push_update(self, kind: str, payload: JSON) -> int:
        """Queue an update of a kind ("message", "callback_query", ...) and return its update_id."""
        update_id = next(self._update_ids)
        self._pending.append({"update_id": update_id, kind: payload})
        await self._notify()
        return update_id

    async def send(
        self,
        chat: JSON,
        sender: JSON | None,
        text: str | None = None,
        *,
        reply_to: JSON | BotMessage | None = None,
        kind: str = "message",
        **extra: Any,
    ) -> JSON:
        """A user (or a channel) sends a message; return it."""
        self.chats[chat["id"]] = chat
        if isinstance(reply_to, BotMessage):
            extra["reply_to_message"] = reply_to.raw
        elif reply_to is not None:
            extra["reply_to_message"] = reply_to
        msg = tf.message(chat, self._next_message_id(chat["id"]), sender=sender, text=text, **extra)
        self.messages[(chat["id"], msg["message_id"])] = msg
        await self.push_update(kind, msg)
        return msg

    async def edit(self, original: JSON, text: str) -> None:
        """A user edits a message they sent."""
        self.chats[original["chat"]["id"]] = original["chat"]
        edited = {**original, "text": text, "edit_date": int(time.time())}
        await self.push_update("edited_message", edited)

    async def press(
        self, message: BotMessage, presser: JSON, *, text: str | None = None, data: str | None = None
    ) -> str:
        """A user presses a button (by its text, or with raw callback data); return the callback query id."""
        if data is None:
            assert text is not None
            data = message.button(text).callback_data
        query_id = f"q{next(self._query_ids)}"
        payload = {"id": query_id, "from": presser, "message": message.raw, "chat_instance": "ci-1", "data": data}
        await self.push_update("callback_query", payload)
        return query_id

    async def inline(self, sender: JSON, query: str) -> str:
        """A user types `@bot query` in some chat; return the inline query id."""
        query_id = f"iq{next(self._query_ids)}"
        await self.push_update("inline_query", {"id": query_id, "from": sender, "query": query, "offset": ""})
        return query_id

    @property
    def pending(self) -> int:
        """Return how many updates Telegram still holds (not yet confirmed by getUpdates or the webhook)."""
        return len(self._pending)

    def replies(self, chat_id: int) -> list[BotMessage]:
        """Return the bot's messages in a chat, oldest first, as they look now."""
        return [m for m in self.sent if m.chat_id == chat_id]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until predicate() is truthy and return its value; fail after timeout seconds."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out after {timeout}s; the bot sent {[m.text[:40] for m in self.sent]}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)

    async def wait_replies(self, chat_id: int, count: int = 1, timeout: float = 10.0) -> list[BotMessage]:
        """Wait until the bot has sent at least `count` messages to a chat; return them."""
        return list(await self.wait_for(lambda: (r := self.replies(chat_id)) and len(r) >= count and r, timeout))

    # --- Telegram's side -------------------------------------------------------------------------------

    async def _params(self, request: Request) -> JSON:
        body = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            return dict(json.loads(body or b"{}"))
        pairs = parse_qsl(body.decode(), keep_blank_values=True) + list(request.query_params.items())
        params: JSON = {}
        for key, value in pairs:
            if key in _STRING_FIELDS:
                params[key] = value
            else:
                try:
                    params[key] = json.loads(value)
                except json.JSONDecodeError:
                    params[key] = value
        return params

    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        if request.path_params["token"] != self.token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401)
        params = await self._params(request)
        self.calls.append((method, params))
        fault = self.faults.pick(method)
        try:
            if fault is not None and fault.kind == "429":
                raise ApiError(
                    429, f"Too Many Requests: retry after {fault.retry_after}", {"retry_after": fault.retry_after}
                )
            if fault is not None and fault.kind == "500":
                raise ApiError(500, "Internal Server Error")
            if fault is not None and fault.kind == "timeout":
                await asyncio.sleep(fault.delay)  # then carry on: the reply comes too late for the client
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(params)
        except ApiError as exc:
            body: JSON = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.parameters:
                body["parameters"] = exc.parameters
            return JSONResponse(body, status_code=exc.code)
        finally:
            await self._notify()
        return JSONResponse({"ok": True, "result": result})

    async def _api_getMe(self, params: JSON) -> JSON:
        return tf.BOT_USER

    async def _api_setMyCommands(self, params: JSON) -> bool:
        commands = params.get("commands", [])
        for c in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", c["command"]) or not 1 <= len(c["description"]) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        scope = params.get("scope") or {"type": "default"}
        if isinstance(scope, str):
            scope = json.loads(scope)
        self.scoped_commands[scope["type"]] = commands
        if scope["type"] == "default":
            self.commands = commands
        return True

    async def _api_getMyCommands(self, params: JSON) -> list[JSON]:
        scope = params.get("scope") or {"type": "default"}
        if isinstance(scope, str):
            scope = json.loads(scope)
        return self.scoped_commands.get(scope["type"], [])

    async def _api_getUpdates(self, params: JSON) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook")
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        if params.get("allowed_updates") is not None:
            self._allowed_updates = list(params["allowed_updates"])
        if offset:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        async with self._changed:
            while True:
                ready = list(itertools.islice((u for u in self._pending if self._allowed(u)), limit))
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0 or self._closing:
                    return ready
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)

    def _allowed(self, update: JSON) -> bool:
        kinds = self._allowed_updates or [
            "message",
            "edited_message",
            "channel_post",
            "edited_channel_post",
            "callback_query",
            "inline_query",
        ]
        return any(k in update for k in kinds)

    async def _api_setWebhook(self, params: JSON) -> bool:
        url = params.get("url", "")
        if not url:
            return await self._api_deleteWebhook(params)
        self.webhook = {"url": url, "secret_token": params.get("secret_token")}
        if params.get("allowed_updates") is not None:
            self._allowed_updates = list(params["allowed_updates"])
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.create_task(self._push_loop())
        return True

    async def _api_deleteWebhook(self, params: JSON) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if self._pusher is not None:
            self._pusher.cancel()
            self._pusher = None
        return True

    async def _api_getWebhookInfo(self, params: JSON) -> JSON:
        return {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    async def _push_loop(self) -> None:
        """Deliver pending updates to the webhook one by one, retrying until it answers 200, as Telegram does."""
        async with httpx.AsyncClient(timeout=5.0) as client:
            while not self._closing and self.webhook is not None:
                async with self._changed:
                    ready = list(itertools.islice((u for u in self._pending if self._allowed(u)), 1))
                    if not ready:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._changed.wait(), 0.5)
                        continue
                update, hook = ready[0], self.webhook
                headers = {"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]} if hook["secret_token"] else {}
                try:
                    response = await client.post(hook["url"], json=update, headers=headers)
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                self.webhook_deliveries.append(status)
                if status == 200:
                    self._pending.remove(update)
                else:
                    await asyncio.sleep(0.05)

    def _message_json(
        self, chat_id: int, message_id: int, text: str, markup: JSON | None, reply_to: int | None
    ) -> JSON:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        out: JSON = {"message_id": message_id, "date": int(time.time()), "chat": chat, "text": text}
        if chat["type"] == "channel":
            out["sender_chat"] = chat
        else:
            out["from"] = tf.BOT_USER
        if markup:
            out["reply_markup"] = markup
        if reply_to is not None and (chat_id, reply_to) in self.messages:
            out["reply_to_message"] = self.messages[(chat_id, reply_to)]
        return out

    def _text(self, params: JSON) -> tuple[str, list[str], str]:
        raw = str(params.get("text", ""))
        if params.get("parse_mode") == "HTML":
            text, bold = parse_html(raw)
        else:
            text, bold = raw, []
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return text, bold, raw

    async def _api_sendMessage(self, params: JSON) -> JSON:
        chat_id = int(params["chat_id"])
        text, bold, raw = self._text(params)
        markup = params.get("reply_markup")
        buttons = _buttons(markup)
        reply = params.get("reply_parameters") or {}
        reply_to = reply.get("message_id") or params.get("reply_to_message_id")
        if reply_to is not None and (chat_id, int(reply_to)) not in self.messages:
            if not reply.get("allow_sending_without_reply"):
                raise ApiError(400, "Bad Request: message to be replied not found")
            reply_to = None
        message_id = self._next_message_id(chat_id)
        msg = self._message_json(chat_id, message_id, text, markup, reply_to)
        self.messages[(chat_id, message_id)] = msg
        record = BotMessage(chat_id, message_id, text, raw, bold, buttons, int(reply_to) if reply_to else None, msg)
        self.sent.append(record)
        self.bot_messages[(chat_id, message_id)] = record
        return msg

    async def _api_editMessageText(self, params: JSON) -> JSON:
        if "inline_message_id" in params:
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        key = (int(params["chat_id"]), int(params["message_id"]))
        record = self.bot_messages.get(key)
        if record is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        text, bold, raw = self._text(params)
        markup = params.get("reply_markup")
        buttons = _buttons(markup)
        if raw == record.html and buttons == record.buttons:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        msg = self._message_json(key[0], key[1], text, markup, record.reply_to)
        record.text, record.bold, record.html, record.buttons, record.raw = text, bold, raw, buttons, msg
        record.edits += 1
        self.messages[key] = msg
        return msg

    async def _api_editMessageReplyMarkup(self, params: JSON) -> JSON:
        key = (int(params["chat_id"]), int(params["message_id"]))
        record = self.bot_messages.get(key)
        if record is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        buttons = _buttons(markup)
        if buttons == record.buttons:
            raise ApiError(400, "Bad Request: message is not modified")
        msg = self._message_json(key[0], key[1], record.text, markup, record.reply_to)
        record.buttons, record.raw = buttons, msg
        record.edits += 1
        self.messages[key] = msg
        return msg

    async def _api_answerCallbackQuery(self, params: JSON) -> bool:
        query_id = params["callback_query_id"]
        if query_id in self.callback_answers or not query_id.startswith("q"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self.callback_answers[query_id] = params
        return True

    async def _api_answerInlineQuery(self, params: JSON) -> bool:
        query_id = params["inline_query_id"]
        results = params.get("results", [])
        ids = [r["id"] for r in results]
        if len(results) > 50 or len(set(ids)) != len(ids) or any(len(i.encode()) > 64 for i in ids):
            raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
        for r in results:
            content = r["input_message_content"]
            if content.get("parse_mode") == "HTML":
                parse_html(content["message_text"])
        self.inline_answers[query_id] = results
        return True


async def start_server(app: Any) -> tuple[PromptServer, asyncio.Task[None], int]:
    """Serve an ASGI app on 127.0.0.1 on a free port, in this event loop; return the server, its task and port."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ws="none", timeout_graceful_shutdown=1
    )
    server = PromptServer(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, task, port


async def stop_server(server: PromptServer, task: asyncio.Task[None]) -> None:
    """Stop a server started with start_server."""
    server.stop()
    await asyncio.wait_for(task, 5)


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[int]:
    """Serve an ASGI app on 127.0.0.1 while the block runs; yield its port."""
    server, task, port = await start_server(app)
    try:
        yield port
    finally:
        await stop_server(server, task)
