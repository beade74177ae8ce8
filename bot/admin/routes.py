"""Routes of the admin console (/admin): login, the console's page and assets, and its JSON calls.

A thin adapter over bot.admin.console. Every path but the login page and its assets needs a session (a signed
cookie): a browser without one is sent to the login page (303), a script gets 401. Every POST must come from
this server's own page (Origin) and, once logged in, carry the session's CSRF token. When neither ADMIN_PASSWORD
nor ADMIN_TOKEN is set the console is disabled: /admin says so and serves no data.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.admin.console import GROUP, PROPOSAL, Console
from bot.admin.session import COOKIE, COOKIE_PATH, CSRF_HEADER, Session, Sessions
from bot.config import AdminCredentials
from bot.http.app import read_body
from bot.http.assets import load_assets
from bot.http.errors import ApiError, JsonResponse, rate_limited
from bot.http.limits import MAX_QUESTION_CHARS
from bot.http.middleware import from_this_server, request_origin
from bot.http.wire import json_object
from bot.ratelimit import RateLimiter

if TYPE_CHECKING:
    from bot.http.app import Api
    from bot.reload import Reloader

logger = logging.getLogger(__name__)

LOGIN_ATTEMPTS_PER_MINUTE = 5
"""Login attempts one client address may make a minute (across the replicas)."""
MAX_SECRET_CHARS = 1024
MAX_ACCEPTED_QUESTIONS = 20
DAY_CHOICES = (1, 7, 30, 90, 180)
LOGIN_PATH = "/admin/login"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PUBLIC_ASSETS = frozenset({"login.js", "style.css", "icon.svg"})
"""What the login page needs; every other asset is served to a session only."""
ASSETS = frozenset({*PUBLIC_ASSETS, "admin.js", "vendor/chart.umd.min.js"})
PAGES = ("index.html", "login.html", "disabled.html")

Handler = Callable[[Request], Awaitable[Response]]


def is_admin_path(path: str) -> bool:
    """Return True for the console's paths: for browsers, described in docs/curation.md, not in the OpenAPI
    document."""
    return path == "/admin" or path.startswith("/admin/")


SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}
"""Every console response: a strict CSP (no inline script, nothing from elsewhere), never framed, never cached."""


def is_navigation(request: Request) -> bool:
    """Return True when a browser is loading a page (not a script's fetch)."""
    mode = request.headers.get("sec-fetch-mode")
    if mode is not None:
        return mode == "navigate"
    return "text/html" in request.headers.get("accept", "")


def same_origin(request: Request) -> None:
    """Refuse (403) a state-changing request that does not come from this server's own pages."""
    if not from_this_server(request, request_origin(request)):
        raise ApiError(403, "origin_not_allowed", "只接受本站管理页面发出的请求。")


def _text(data: dict[str, Any], name: str, limit: int, *, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ApiError(400, f"invalid_{name}", f"{name} 字段必须是不超过 {limit} 个字符的非空字符串。")
    return value.strip()


def _kind(data: dict[str, Any]) -> str:
    kind = data.get("kind")
    if kind not in (PROPOSAL, GROUP):
        raise ApiError(400, "invalid_kind", 'kind 必须是 "proposal" 或 "group"。')
    assert isinstance(kind, str)
    return kind


class AdminEndpoints:
    """The console's routes on the API's service and settings."""

    def __init__(self, api: Api, credentials: AdminCredentials, reloader: Reloader) -> None:
        self.api = api
        self.credentials = credentials
        self.console = Console(api.service, api.settings, reloader)
        self.sessions = Sessions(credentials.session_key, max_age_seconds=api.settings.admin_session_hours * 3600)
        self.logins = RateLimiter(api.settings.per_replica(LOGIN_ATTEMPTS_PER_MINUTE))
        self.assets = load_assets("bot.admin", (*ASSETS, *PAGES))

    # -- plumbing ----------------------------------------------------------------------------------------

    def _asset(self, name: str, status: int = 200) -> Response:
        asset = self.assets[name]
        return Response(asset.body, status, {**SECURITY_HEADERS, "Content-Type": asset.content_type})

    def _json(self, content: Any, status: int = 200) -> JsonResponse:
        return JsonResponse(content, status, {"Cache-Control": "no-store", "X-Frame-Options": "DENY"})

    def session(self, request: Request) -> Session | None:
        """Return the request's valid session, or None."""
        return self.sessions.read(request.cookies.get(COOKIE))

    def private(self, handler: Handler, *, check_csrf: bool = False) -> Handler:
        """Wrap a handler so it runs only with a session (and, for POSTs, this site's Origin and the CSRF token)."""

        async def guarded(request: Request) -> Response:
            session = self.session(request)
            if session is None:
                if request.method == "GET" and is_navigation(request):
                    return RedirectResponse(LOGIN_PATH, 303, headers={"Cache-Control": "no-store"})
                raise ApiError(401, "login_required", "请先登录管理后台。")
            if check_csrf:
                same_origin(request)
                if not session.csrf_matches(request.headers.get(CSRF_HEADER)):
                    raise ApiError(403, "csrf_failed", "请求缺少有效的 CSRF 令牌：请刷新页面后重试。")
            request.state.admin_session = session
            return await handler(request)

        guarded.__doc__ = handler.__doc__
        return guarded

    async def _body(self, request: Request, example: str) -> dict[str, Any]:
        return json_object(await read_body(request), example)

    # -- login -------------------------------------------------------------------------------------------

    async def login_page(self, request: Request) -> Response:
        """GET /admin/login: the login form (a logged-in browser goes straight to the console)."""
        if self.session(request) is not None:
            return RedirectResponse("/admin", 303, headers={"Cache-Control": "no-store"})
        return self._asset("login.html")

    async def login(self, request: Request) -> Response:
        """POST /admin/login: check the password or token, then set the session cookie."""
        same_origin(request)
        address = request.client.host if request.client else "unknown"
        decision = self.logins.hit(f"admin-login:{address}")
        if not decision.allowed:
            raise rate_limited("登录尝试过于频繁", decision.retry_after)
        data = await self._body(request, '例如 {"secret": "<管理密码或令牌>"}')
        secret = data.get("secret")
        if not isinstance(secret, str) or not secret or len(secret) > MAX_SECRET_CHARS:
            raise ApiError(400, "invalid_secret", "请输入管理密码或令牌。")
        if not await asyncio.to_thread(self.credentials.matches, secret):
            logger.warning("admin: a login attempt failed")
            raise ApiError(401, "wrong_secret", "密码或令牌不正确。")
        session, cookie = self.sessions.issue()
        logger.info("admin: logged in")
        response = self._json({"ok": True, "csrf": session.csrf, "expires_in": self.sessions.max_age})
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=self.sessions.max_age,
            path=COOKIE_PATH,
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
        return response

    async def logout(self, request: Request) -> Response:
        """POST /admin/logout: end the session in this browser (the cookie is deleted)."""
        response = self._json({"ok": True})
        response.delete_cookie(
            COOKIE, path=COOKIE_PATH, secure=request.url.scheme == "https", httponly=True, samesite="strict"
        )
        return response

    # -- pages and assets --------------------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        """GET /admin: the console."""
        return self._asset("index.html")

    async def static(self, request: Request) -> Response:
        """GET /admin/static/{name}: the console's scripts, style sheet and the vendored Chart.js."""
        name = request.path_params["name"]
        if name not in ASSETS:
            raise ApiError(404, "not_found", "没有这个文件。")
        if name not in PUBLIC_ASSETS and self.session(request) is None:
            raise ApiError(401, "login_required", "请先登录管理后台。")
        return self._asset(name)

    async def not_found(self, request: Request) -> Response:
        """Any other /admin path (with a session): nothing there."""
        raise ApiError(404, "not_found", "管理后台没有这个页面。")

    # -- the console's calls -----------------------------------------------------------------------------

    async def session_info(self, request: Request) -> Response:
        """GET /admin/api/session: the session's CSRF token (the page sends it back on every POST)."""
        session: Session = request.state.admin_session
        return self._json({"csrf": session.csrf, "expires_in": self.sessions.max_age})

    async def dashboard(self, request: Request) -> Response:
        """GET /admin/api/dashboard?days=N: the dashboard's figures."""
        raw = request.query_params.get("days", "30")
        if not raw.isdigit() or int(raw) not in DAY_CHOICES:
            raise ApiError(400, "invalid_days", f"days 必须是 {'、'.join(map(str, DAY_CHOICES))} 之一。")
        return self._json(await self.console.dashboard(int(raw)))

    async def status(self, request: Request) -> Response:
        """GET /admin/api/status: the knowledge base now serving."""
        return self._json(self.console.status())

    async def entries(self, request: Request) -> Response:
        """GET /admin/api/entries: every topic's entries, to choose where a question goes."""
        return self._json({"topics": self.console.entries()})

    async def review(self, request: Request) -> Response:
        """GET /admin/api/review: the open proposals and unanswered groups."""
        return self._json({"items": await self.console.review(), "store": self.api.service.store is not None})

    async def accept(self, request: Request) -> Response:
        """POST /admin/api/review/accept: add the item's questions to an entry, validated, then reload."""
        data = await self._body(request, '例如 {"kind": "group", "question": "…", "target": "条目编号"}')
        kind = _kind(data)
        question = _text(data, "question", MAX_QUESTION_CHARS)
        target = _text(data, "target", 128)
        entry = _text(data, "entry", 128, required=False)
        assert question is not None and target is not None
        extra = data.get("questions", [question])
        if (
            not isinstance(extra, list)
            or not 1 <= len(extra) <= MAX_ACCEPTED_QUESTIONS
            or not all(isinstance(q, str) and q.strip() and len(q) <= MAX_QUESTION_CHARS for q in extra)
        ):
            raise ApiError(400, "invalid_questions", f"questions 必须是 1 到 {MAX_ACCEPTED_QUESTIONS} 个问题的列表。")
        questions = list(dict.fromkeys([question, *(q.strip() for q in extra)]))
        if self.api.service.entry(target) is None:
            raise ApiError(404, "not_found", "没有这个编号的条目。")
        result = await self.console.accept(kind, entry if kind == PROPOSAL else None, target, questions)
        return self._json(result.to_dict(), 200 if result.ok else 422)

    async def dismiss(self, request: Request) -> Response:
        """POST /admin/api/review/dismiss: leave an item out of the queue from now on (every replica)."""
        data = await self._body(request, '例如 {"kind": "group", "question": "…"}')
        kind = _kind(data)
        question = _text(data, "question", MAX_QUESTION_CHARS)
        entry = _text(data, "entry", 128, required=False)
        assert question is not None
        if not await self.console.decide(kind, entry if kind == PROPOSAL else None, question, "dismissed"):
            raise ApiError(503, "no_store", "没有配置存储，无法记住忽略的条目。")
        return self._json({"ok": True})

    async def trial(self, request: Request) -> Response:
        """POST /admin/api/try: the reply a user would get, with candidates and reasons (not recorded)."""
        data = await self._body(request, '例如 {"question": "企业开办要几天"}')
        question = _text(data, "question", MAX_QUESTION_CHARS)
        assert question is not None
        return self._json(self.console.trial(question))

    async def reload(self, request: Request) -> Response:
        """POST /admin/api/reload: reread the knowledge base; the old one keeps serving when it is invalid."""
        result = await self.console.reload()
        return self._json(result, 200 if result["ok"] else 422)

    async def export(self, request: Request) -> Response:
        """GET /admin/export.xlsx: the knowledge base now serving as the curators' workbook."""
        body = await self.console.workbook()
        name = f"knowledge-{self.api.service.kb_version}.xlsx"
        return Response(
            body,
            headers={
                "Content-Type": XLSX,
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )


class DisabledEndpoints:
    """/admin when no admin secret is configured: a note saying how to enable the console, and no data."""

    def __init__(self) -> None:
        self.assets = load_assets("bot.admin", (*ASSETS, *PAGES))

    async def note(self, request: Request) -> Response:
        """GET /admin (and anything under it): the console is disabled."""
        asset = self.assets["disabled.html"]
        status = 200 if request.url.path.rstrip("/") == "/admin" else 404
        return Response(asset.body, status, {**SECURITY_HEADERS, "Content-Type": asset.content_type})

    async def static(self, request: Request) -> Response:
        """GET /admin/static/{name}: the note's style sheet and icon."""
        name = request.path_params["name"]
        if name not in ("style.css", "icon.svg"):
            return await self.note(request)
        asset = self.assets[name]
        return Response(asset.body, headers={**SECURITY_HEADERS, "Content-Type": asset.content_type})


def admin_routes(api: Api, reloader: Reloader) -> list[BaseRoute]:
    """Return the console's routes (or, without ADMIN_PASSWORD and ADMIN_TOKEN, the note that it is disabled)."""
    credentials = api.settings.admin_credentials()
    if credentials is None:
        off = DisabledEndpoints()
        return [
            Route("/admin/static/{name}", off.static, methods=["GET"]),
            Route("/admin", off.note, methods=["GET"]),
            Route("/admin/{rest:path}", off.note, methods=["GET", "POST"]),
        ]
    web = AdminEndpoints(api, credentials, reloader)
    private = web.private

    def post(handler: Handler) -> Handler:
        return private(handler, check_csrf=True)

    return [
        Route("/admin", private(web.page), methods=["GET"]),
        Route(LOGIN_PATH, web.login_page, methods=["GET"]),
        Route(LOGIN_PATH, web.login, methods=["POST"]),
        Route("/admin/logout", post(web.logout), methods=["POST"]),
        Route("/admin/static/{name:path}", web.static, methods=["GET"]),
        Route("/admin/api/session", private(web.session_info), methods=["GET"]),
        Route("/admin/api/dashboard", private(web.dashboard), methods=["GET"]),
        Route("/admin/api/status", private(web.status), methods=["GET"]),
        Route("/admin/api/entries", private(web.entries), methods=["GET"]),
        Route("/admin/api/review", private(web.review), methods=["GET"]),
        Route("/admin/api/review/accept", post(web.accept), methods=["POST"]),
        Route("/admin/api/review/dismiss", post(web.dismiss), methods=["POST"]),
        Route("/admin/api/try", post(web.trial), methods=["POST"]),
        Route("/admin/api/reload", post(web.reload), methods=["POST"]),
        Route("/admin/export.xlsx", private(web.export), methods=["GET"]),
        Route("/admin/{rest:path}", private(web.not_found), methods=["GET", "POST"]),
    ]
