"""The one ASGI app: the JSON ask API, knowledge base browsing, health, metrics, OpenAPI and Telegram's webhook."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.config import Settings
from bot.escalation import Escalator
from bot.http.openapi import build_openapi
from bot.metrics import Metrics
from bot.ratelimit import RateLimiter
from bot.service import AskService
from knowledge.export import entry_to_dict

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024
BODY_TIMEOUT_SECONDS = 15.0
"""Longest wait for the next piece of a request body: a body shorter than its Content-Length ends in a 408."""
MAX_QUESTION_CHARS = 4096
MAX_CHAT_ID_CHARS = 128
AUTH_REALM = "hohhot-assistant"

Hook = Callable[[], Awaitable[None]]
Endpoint = Callable[[Request], Awaitable[Response]]


class ApiError(Exception):
    """A request the API refuses: an HTTP status, an English error code and a Chinese message for people."""

    def __init__(self, status: int, error: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.message = message
        self.headers = headers or {}


class JsonResponse(Response):
    """A JSON response in UTF-8 that never fails to render (stray surrogates are escaped, not fatal)."""

    media_type = "application/json"

    def __init__(self, content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> None:
        # Questions echo user input (HTML included): forbid browsers from sniffing it into a page.
        super().__init__(content, status_code, {**(headers or {}), "X-Content-Type-Options": "nosniff"})

    def render(self, content: Any) -> bytes:
        """Return content as compact JSON bytes."""
        try:
            return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def error_response(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> JsonResponse:
    """Return the API's error shape: {"error": code, "message": 中文说明}."""
    return JsonResponse({"error": error, "message": message}, status_code=status, headers=headers)


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """Read the request body, refusing (413) as soon as it exceeds limit, whatever Content-Length claims, and
    giving up (408) when the client stops sending before the body is complete."""
    too_large = ApiError(413, "body_too_large", f"请求体过大：不能超过 {limit // 1024} KiB。")
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    stream = request.stream().__aiter__()
    while True:
        try:
            chunk = await asyncio.wait_for(stream.__anext__(), BODY_TIMEOUT_SECONDS)
        except StopAsyncIteration:
            break
        except TimeoutError:
            raise ApiError(
                408, "request_timeout", "请求体发送太慢或不完整，请重试。", {"Connection": "close"}
            ) from None
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _encodable(text: str) -> bool:
    """Return False for text with lone surrogates ("\\ud800" is valid JSON but no valid UTF-8 string)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_ask(body: bytes) -> tuple[str, str | int | None]:
    """Return the question and chat_id of an ask request body, or raise ApiError (400) saying what is wrong."""
    example = '例如 {"question": "企业开办要几天"}'
    try:
        text = body.decode("utf-8")  # json.loads(bytes) would also take UTF-16 and UTF-32; the API is UTF-8 only
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_json", f"请求体必须是 UTF-8 编码的 JSON，{example}。") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: thousands of nested brackets fit in 16 KiB
        raise ApiError(400, "invalid_json", f"请求体不是有效的 JSON，{example}。") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", f"请求体必须是 JSON 对象，{example}。")
    if "question" not in data:
        raise ApiError(400, "missing_question", f"缺少 question 字段，{example}。")
    question = data["question"]
    if not isinstance(question, str):
        raise ApiError(400, "invalid_question", "question 字段必须是字符串。")
    if len(question) > MAX_QUESTION_CHARS:
        raise ApiError(400, "question_too_long", f"问题太长：请不要超过 {MAX_QUESTION_CHARS} 个字符。")
    chat_id = data.get("chat_id")
    if isinstance(chat_id, float) and chat_id.is_integer():  # JSON Schema counts 1.0 as an integer; so do we
        chat_id = int(chat_id)
    if chat_id is not None and (
        isinstance(chat_id, bool)
        or not isinstance(chat_id, str | int)
        or (isinstance(chat_id, str) and (len(chat_id) > MAX_CHAT_ID_CHARS or not _encodable(chat_id)))
    ):
        raise ApiError(400, "invalid_chat_id", f"chat_id 必须是整数或不超过 {MAX_CHAT_ID_CHARS} 个字符的字符串。")
    return question, chat_id


class KeyRing:
    """The configured API keys, checked in constant time (every key is compared, whatever matches)."""

    def __init__(self, keys: Sequence[str]) -> None:
        # Compare fixed-length digests, so neither a key's content nor its length shows in the timing.
        self._digests = [(index, hashlib.sha256(key.encode()).digest()) for index, key in enumerate(keys)]

    @property
    def enabled(self) -> bool:
        """Return True when requests must carry a key."""
        return bool(self._digests)

    def identify(self, authorization: str | None) -> int | None:
        """Return the index of the key a `Bearer` Authorization header carries, or None."""
        if not authorization:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        digest = hashlib.sha256(token.strip().encode("utf-8", "surrogatepass")).digest()
        found: int | None = None
        for index, candidate in self._digests:
            if hmac.compare_digest(digest, candidate):
                found = index
        return found


class Api:
    """The API's endpoints, sharing the service, the keys, the rate limiter and the metrics."""

    def __init__(self, service: AskService, settings: Settings, metrics: Metrics) -> None:
        self.service = service
        self.settings = settings
        self.metrics = metrics
        self.keys = KeyRing(settings.api_keys)
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.openapi = build_openapi(auth=self.keys.enabled, rate_limit_per_minute=settings.rate_limit_per_minute)

    def guard(self, request: Request) -> None:
        """Rate-limit the caller (by key, else by address), then check its key; raise ApiError to refuse."""
        key_index = self.keys.identify(request.headers.get("authorization")) if self.keys.enabled else None
        if key_index is not None:
            bucket = f"key:{key_index}"
        else:  # unauthenticated callers, including ones guessing keys, are limited per address
            bucket = f"ip:{request.client.host if request.client else 'unknown'}"
        decision = self.limiter.hit(bucket)
        if not decision.allowed:
            raise ApiError(
                429,
                "rate_limited",
                f"请求过于频繁，请 {decision.retry_after} 秒后再试。",
                {"Retry-After": str(decision.retry_after)},
            )
        if self.keys.enabled and key_index is None:
            given = request.headers.get("authorization") is not None
            challenge = f'Bearer realm="{AUTH_REALM}"' + (', error="invalid_token"' if given else "")
            raise ApiError(
                401,
                "unauthorized",
                "需要有效的 API 密钥：请在请求头中加上 Authorization: Bearer <密钥>。",
                {"WWW-Authenticate": challenge},
            )

    async def ask(self, request: Request) -> Response:
        """POST /v1/ask: answer one question with the same JSON as `ask --json`."""
        self.guard(request)
        question, chat_id = parse_ask(await read_body(request))
        answer = self.service.ask(question, channel="api", user_id=chat_id)
        return JsonResponse(answer.to_dict())

    async def topics(self, request: Request) -> Response:
        """GET /v1/topics: every topic with its entries' ids and first questions."""
        self.guard(request)
        kb = self.service.engine.kb
        return JsonResponse(
            {
                "topics": [
                    {
                        "id": topic.id,
                        "title": topic.title,
                        "entries": [{"id": i, "question": kb.entries[i].questions[0]} for i in topic.entry_ids],
                    }
                    for topic in kb.topics
                ]
            }
        )

    async def entry(self, request: Request) -> Response:
        """GET /v1/entries/{id}: one entry with its questions, reply, facts and sources."""
        self.guard(request)
        entry = self.service.engine.kb.entries.get(request.path_params["id"])
        if entry is None:
            raise ApiError(404, "not_found", "没有这个编号的条目；可用的编号见 GET /v1/topics。")
        return JsonResponse(entry_to_dict(entry))

    async def health(self, request: Request) -> Response:
        """GET /healthz: alive, with the knowledge base loaded and its size."""
        kb = self.service.engine.kb
        return JsonResponse(
            {"status": "ok", "knowledge_base": {"loaded": True, "topics": len(kb.topics), "entries": len(kb.entries)}}
        )

    async def metrics_endpoint(self, request: Request) -> Response:
        """GET /metrics: Prometheus exposition text."""
        body, content_type = self.metrics.render()
        return Response(body, headers={"Content-Type": content_type})

    async def openapi_endpoint(self, request: Request) -> Response:
        """GET /openapi.json: the OpenAPI 3.1 description of this API."""
        return JsonResponse(self.openapi)

    def counted(self, route: str, endpoint: Endpoint) -> Endpoint:
        """Wrap an endpoint so API errors become JSON responses and every response is counted by status."""

        async def wrapped(request: Request) -> Response:
            try:
                response = await endpoint(request)
            except ApiError as exc:
                response = error_response(exc.status, exc.error, exc.message, exc.headers)
            except ClientDisconnect:
                response = error_response(400, "client_disconnected", "客户端在请求体传完之前断开了连接。")
            self.metrics.http_responses.labels(route, str(response.status_code)).inc()
            return response

        wrapped.__doc__ = endpoint.__doc__
        return wrapped


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return error_response(405, "method_not_allowed", "这个接口不支持该请求方法。", dict(exc.headers or {}))
    if exc.status_code == 404:
        return error_response(404, "not_found", "没有这个接口；接口说明见 GET /openapi.json。")
    return error_response(exc.status_code, "http_error", "请求无法处理。", dict(exc.headers or {}))


async def _server_error(request: Request, exc: Exception) -> Response:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "服务器内部错误，请稍后再试。")


def create_app(
    service: AskService,
    settings: Settings,
    *,
    telegram_route: BaseRoute | None = None,
    metrics: Metrics | None = None,
    escalator: Escalator | None = None,
    startup: Sequence[Hook] = (),
    shutdown: Sequence[Hook] = (),
) -> Starlette:
    """Build the server's one ASGI app on a service.

    The app subscribes to the service only what it creates: without `metrics` it makes its own registry and
    subscribes it; a given `metrics` or `escalator` the caller has subscribed. The lifespan starts the
    escalator's worker and then runs `startup`; on the way out (also after a failed start) it runs every
    `shutdown` hook in reverse order, then drains and stops the escalator.
    """
    if metrics is None:
        metrics = Metrics()
        service.subscribe(metrics.observe)
    metrics.entries.set(len(service.engine.kb.entries))
    api = Api(service, settings, metrics)
    routes: list[BaseRoute] = [
        Route("/v1/ask", api.counted("/v1/ask", api.ask), methods=["POST"]),
        Route("/v1/topics", api.counted("/v1/topics", api.topics), methods=["GET"]),
        Route("/v1/entries/{id}", api.counted("/v1/entries/{id}", api.entry), methods=["GET"]),
        Route("/healthz", api.counted("/healthz", api.health), methods=["GET"]),
        Route("/metrics", api.metrics_endpoint, methods=["GET"]),
        Route("/openapi.json", api.openapi_endpoint, methods=["GET"]),
    ]
    if telegram_route is not None:
        routes.append(telegram_route)
    if settings.wechat_token:  # imported only when used
        from bot.wechat.routes import WeChatConfig, wechat_route

        config = WeChatConfig(settings.wechat_token, settings.wechat_app_id, settings.wechat_aes_key)
        routes.append(wechat_route(service, config))
    if settings.wecom_token and settings.wecom_corp_id:
        from bot.wechat.routes import WeChatConfig, wechat_route

        config = WeChatConfig(settings.wecom_token, settings.wecom_corp_id, settings.wecom_aes_key, wecom=True)
        routes.append(wechat_route(service, config, "/wecom"))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if escalator is not None:
            await escalator.start()
        try:
            for hook in startup:
                await hook()
            yield
        finally:
            for hook in reversed(shutdown):
                try:
                    await hook()
                except Exception:
                    logger.exception("shutdown step failed")
            if escalator is not None:
                await escalator.stop()

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_exception, Exception: _server_error},
        lifespan=lifespan,
    )
    app.state.api = api
    app.state.metrics = metrics
    return app
