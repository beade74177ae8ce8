"""Routes of the public chat page: its assets, the widget script, and `/web/ask`, `/web/pick`, `/web/feedback`.

A thin adapter: the page's calls go through the assistant façade, the API's rate limiter and error shape. Its
one rule of its own is the origin rule (the browser's Origin must be this server or a WEB_ALLOWED_ORIGINS
site), which stands in for an API key the browser could not keep secret; it is enforced, with the rate limit
and CORS, by one middleware on the page's calls (`PageGuard`), not by each handler.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.http.app import read_body
from bot.http.assets import load_assets
from bot.http.errors import ApiError, JsonResponse, rate_limited
from bot.http.limits import MAX_CHAT_ID_CHARS
from bot.http.middleware import client_bucket, from_this_server, request_origin
from bot.http.wire import json_object, parse_ask, parse_feedback
from bot.service import Asker
from bot.store import Vote
from bot.web.view import reply_view

if TYPE_CHECKING:
    from bot.http.app import Api

logger = logging.getLogger(__name__)

CHANNEL = "web"
MAX_INTENT_CHARS = 128
PREFLIGHT_MAX_AGE = "600"
_STATIC = ("app.js", "style.css", "widget.js", "index.html", "icon.svg")


def security_headers(allowed_origins: tuple[str, ...]) -> dict[str, str]:
    """Return the headers of every page response: a strict CSP (no inline script), nosniff, no referrer."""
    ancestors = " ".join(("'self'", *allowed_origins))
    csp = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        f"base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def parse_pick(body: bytes) -> tuple[str, str | int | None]:
    """Return the entry id and chat_id of a pick request body, or raise ApiError (400) saying what is wrong."""
    example = '例如 {"intent": "企业开办时间"}'
    data = json_object(body, example)
    intent = data.get("intent")
    if not isinstance(intent, str) or not intent or len(intent) > MAX_INTENT_CHARS:
        raise ApiError(400, "invalid_intent", f"intent 字段必须是条目编号（字符串），{example}。")
    chat_id = data.get("chat_id")
    if chat_id is not None and (not isinstance(chat_id, str) or len(chat_id) > MAX_CHAT_ID_CHARS):
        raise ApiError(400, "invalid_chat_id", f"chat_id 必须是不超过 {MAX_CHAT_ID_CHARS} 个字符的字符串。")
    return intent, chat_id


class WebEndpoints:
    """The page's routes on the API's service, limiter and settings."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.allowed = frozenset(api.settings.web_allowed_origins)
        self.headers = security_headers(api.settings.web_allowed_origins)
        self.assets = load_assets("bot.web", _STATIC)

    def _asset(self, name: str, *, cache: bool = True) -> Response:
        asset = self.assets[name]
        headers = {**self.headers, "Cache-Control": "public, max-age=300" if cache else "no-cache"}
        return Response(asset.body, headers={**headers, "Content-Type": asset.content_type})

    async def page(self, request: Request) -> Response:
        """GET /: the chat page."""
        return self._asset("index.html", cache=False)

    async def static(self, request: Request) -> Response:
        """GET /web/static/{name}: the page's script, style sheet and icon."""
        name = request.path_params["name"]
        if name not in ("app.js", "style.css", "icon.svg"):
            raise ApiError(404, "not_found", "没有这个文件。")
        return self._asset(name)

    async def widget(self, request: Request) -> Response:
        """GET /widget.js: the script a portal includes to get the floating 在线咨询 button."""
        response = self._asset("widget.js")
        response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        return response

    def origin(self, request: Request) -> str:
        """Return the caller's Origin when it is this server or an allowed site; raise 403 otherwise."""
        origin = request_origin(request)
        if origin and (origin in self.allowed or from_this_server(request, origin)):
            return origin
        raise ApiError(403, "origin_not_allowed", "这个接口只接受本站页面或允许嵌入的网站发出的请求。")

    def cors(self, origin: str) -> dict[str, str]:
        """Return the CORS headers for an allowed cross-site caller (none for the server's own page)."""
        if origin not in self.allowed:
            return {}
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    def limit(self, request: Request, cors: dict[str, str]) -> None:
        """Rate-limit per client address exactly like unauthenticated API calls (same limiter, same bucket)."""
        decision = self.api.limiter.hit(client_bucket(request))
        if not decision.allowed:
            raise rate_limited("提问太频繁了", decision.retry_after, cors)

    def preflight(self, cors: dict[str, str]) -> Response:
        """Answer OPTIONS: let allowed sites post JSON (the origin rule has refused everyone else)."""
        if not cors:
            return Response(status_code=204)
        headers = {
            **cors,
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        }
        return Response(status_code=204, headers=headers)

    async def ask(self, request: Request) -> Response:
        """POST /web/ask: answer one question for the page."""
        asked = parse_ask(await read_body(request))
        asker = Asker(CHANNEL, chat_id=asked.chat_id, user_id=asked.chat_id)
        reply = await self.api.service.ask(asked.question, asker)
        return JsonResponse(reply_view(reply, self.api.service.catalog))

    async def pick(self, request: Request) -> Response:
        """POST /web/pick: answer the entry of a chip the user clicked."""
        intent, chat_id = parse_pick(await read_body(request))
        try:
            reply = await self.api.service.pick(intent, Asker(CHANNEL, chat_id=chat_id, user_id=chat_id))
        except KeyError:
            raise ApiError(404, "not_found", "没有这个编号的条目，请重新提问。") from None
        return JsonResponse(reply_view(reply, self.api.service.catalog))

    async def feedback(self, request: Request) -> Response:
        """POST /web/feedback: the page's 👍/👎 on a reply by its id; voting again changes the vote."""
        vote = parse_feedback(await read_body(request))
        voter = Asker(CHANNEL, chat_id=vote.chat_id, user_id=vote.chat_id)
        stored = await self.api.service.feedback(vote.id, Vote(vote.vote), voter, reason=vote.reason)
        if stored is None:
            raise ApiError(404, "not_found", "没有这个 id 的回答记录。")
        return JsonResponse({"id": stored.question_id, "vote": stored.vote.value})


class PageGuard:
    """The page's calls' own rule, in front of their handlers: the origin rule (403), then for POST the shared
    rate limit (429); OPTIONS is answered here as a CORS preflight, and an allowed cross-site caller gets the
    CORS headers on every response, the handlers' errors included."""

    def __init__(self, app: ASGIApp, *, web: WebEndpoints) -> None:
        self.app = app
        self.web = web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse, answer the preflight, or pass the request on with CORS headers added to its response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        cors = self.web.cors(self.web.origin(request))
        if request.method == "OPTIONS":
            await self.web.preflight(cors)(scope, receive, send)
            return
        self.web.limit(request, cors)
        if not cors:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Access-Control-Allow-Origin"] = cors["Access-Control-Allow-Origin"]
                headers.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)


WEB_PATHS = frozenset({"/", "/widget.js", "/web/static/{name}", "/web/ask", "/web/pick", "/web/feedback"})
"""The page's paths: for browsers, described in docs/http-api.md rather than in the API's OpenAPI document."""


def web_routes(api: Api) -> list[BaseRoute]:
    """Return the page's routes (counted and error-shaped by the app's middleware and exception handlers)."""
    web = WebEndpoints(api)
    return [
        Route("/", web.page, methods=["GET"]),
        Route("/widget.js", web.widget, methods=["GET"]),
        Route("/web/static/{name}", web.static, methods=["GET"]),
        *(
            Route(path, endpoint, methods=["POST", "OPTIONS"], middleware=[Middleware(PageGuard, web=web)])
            for path, endpoint in (("/web/ask", web.ask), ("/web/pick", web.pick), ("/web/feedback", web.feedback))
        ),
    ]
