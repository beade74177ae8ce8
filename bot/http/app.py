"""The one ASGI app: the JSON ask API, knowledge base browsing, health, metrics, OpenAPI and Telegram's webhook."""

from __future__ import annotations

import asyncio
import contextlib
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
from bot.escalation import Dispatcher
from bot.http.limits import MAX_BODY_BYTES, MAX_CHAT_ID_CHARS, MAX_QUESTION_CHARS, MAX_RECORD_ID_CHARS
from bot.http.openapi import build_openapi
from bot.metrics import Metrics
from bot.ratelimit import RateLimiter
from bot.reload import Reloader
from bot.service import Asker, Assistant
from bot.store import StoreError, Vote

logger = logging.getLogger(__name__)

BODY_TIMEOUT_SECONDS = 15.0
"""Longest wait for the next piece of a request body: a body shorter than its Content-Length ends in a 408."""
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


def json_object(body: bytes, example: str) -> dict[str, Any]:
    """Return a request body's JSON object, or raise ApiError (400) with the example of a valid body."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, "invalid_json", f"请求体不是有效的 UTF-8 JSON，{example}。") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", f"请求体必须是 JSON 对象，{example}。")
    return data


def parse_feedback(body: bytes) -> tuple[str, Vote, str | None, str | int | None]:
    """Return the record id, vote, reason and chat_id of a feedback body, or raise ApiError (400)."""
    example = '例如 {"id": "<POST /v1/ask 返回的 id>", "vote": "up"}'
    data = json_object(body, example)
    record_id, vote, reason = data.get("id"), data.get("vote"), data.get("reason")
    if (
        not isinstance(record_id, str)
        or not record_id
        or len(record_id) > MAX_RECORD_ID_CHARS
        or not _encodable(record_id)
    ):
        raise ApiError(400, "invalid_feedback", f"id 必须是 /v1/ask 返回的 id 字符串，{example}。")
    if vote not in ("up", "down"):
        raise ApiError(400, "invalid_feedback", 'vote 必须是 "up" 或 "down"。')
    if reason is not None and (not isinstance(reason, str) or len(reason) > 200 or not _encodable(reason)):
        raise ApiError(400, "invalid_feedback", "reason 必须是不超过 200 个字符的字符串。")
    chat_id = data.get("chat_id")
    if not isinstance(chat_id, str | int) or isinstance(chat_id, bool):
        chat_id = None
    return record_id, Vote(vote), reason, chat_id


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


HEALTH_CACHE_SECONDS = 2.0
STORE_PING_SECONDS = 2.0


class HealthChecks:
    """Exercise the engine with a known question and the store with a query; cached briefly so a storm of
    probes costs nothing."""

    def __init__(self, service: Assistant) -> None:
        self.service = service
        self.probe = service.health_probe()
        """The known question and the figure its answer must cite."""
        self._cached: tuple[float, dict[str, str]] | None = None

    def engine(self) -> str:
        """Return "ok" when the probe question is answered with its figure, else what went wrong."""
        if self.probe is None:
            return "no probe question"
        question, figure = self.probe
        try:
            answer = self.service.probe(question)
        except Exception as exc:
            logger.error("health: the engine failed on its probe question", exc_info=exc)
            return f"error: {type(exc).__name__}"
        return "ok" if figure in answer.figures else "wrong answer to the probe question"

    async def store(self) -> str:
        """Return "ok" when the store answers and its last write worked, else why not."""
        store = self.service.store
        if store is None:
            return "not configured"
        try:
            await asyncio.wait_for(store.ping(), STORE_PING_SECONDS)
        except TimeoutError:
            return "timeout"
        except Exception as exc:
            return f"unavailable: {type(exc).__name__}"
        failing = self.service.store_health.last_error
        return "ok" if failing is None else f"writes failing: {failing}"

    def clear(self) -> None:
        """Forget the cached result: the next probe checks anew."""
        self._cached = None

    async def run(self) -> dict[str, str]:
        """Return each check's result."""
        now = asyncio.get_running_loop().time()
        if self._cached is not None and now - self._cached[0] < HEALTH_CACHE_SECONDS:
            return self._cached[1]
        checks = {"engine": self.engine(), "store": await self.store()}
        self._cached = (now, checks)
        return checks


class StoreUpkeep:
    """Open the store (retrying while it cannot), and prune records older than the retention period daily."""

    RETRY_SECONDS = 30.0
    PRUNE_SECONDS = 24 * 3600.0

    def __init__(self, service: Assistant, *, retention_days: int) -> None:
        self.service = service
        self.retention_days = retention_days
        self._task: asyncio.Task[None] | None = None

    async def _open(self) -> bool:
        store = self.service.store
        assert store is not None
        try:
            await store.open()
        except StoreError as exc:
            logger.error("store: %s; answering without recording, retrying in %.0f s", exc, self.RETRY_SECONDS)
            self.service.store_health.failed(exc)
            return False
        self.service.store_health.ok()
        return True

    async def start(self) -> None:
        """Open the store once now, then keep it up in the background."""
        if self.service.store is None:
            return
        opened = await self._open()
        self._task = asyncio.create_task(self._run(opened), name="store-upkeep")

    async def _run(self, opened: bool) -> None:
        store = self.service.store
        assert store is not None
        while True:
            while not opened:
                await asyncio.sleep(self.RETRY_SECONDS)
                opened = await self._open()
            try:
                removed = await store.prune(self.retention_days)
                if removed:
                    logger.info("store: pruned %d record(s) older than %d days", removed, self.retention_days)
            except Exception as exc:
                logger.warning("store: pruning failed (%s)", type(exc).__name__)
            await asyncio.sleep(self.PRUNE_SECONDS)

    async def stop(self) -> None:
        """Stop the upkeep and close the store."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.service.store is not None:
            await self.service.store.close()


class Api:
    """The API's endpoints, sharing the service, the keys, the rate limiter and the metrics."""

    def __init__(self, service: Assistant, settings: Settings, metrics: Metrics) -> None:
        self.service = service
        self.health_checks = HealthChecks(service)
        self.settings = settings
        self.metrics = metrics
        self.keys = KeyRing(settings.api_keys)
        self.limiter = RateLimiter(settings.per_replica(settings.rate_limit_per_minute))
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
        reply = await self.service.ask(question, Asker("api", chat_id=chat_id, user_id=chat_id))
        return JsonResponse(reply.to_dict())

    async def feedback(self, request: Request) -> Response:
        """POST /v1/feedback: a vote on a reply by its id; the same caller voting again changes the vote."""
        self.guard(request)
        record_id, vote, reason, chat_id = parse_feedback(await read_body(request))
        voter = Asker("api", chat_id=chat_id, user_id=chat_id if chat_id is not None else self._caller(request))
        stored = await self.service.feedback(record_id, vote, voter, reason=reason)
        if stored is None:
            raise ApiError(404, "not_found", "没有这个 id 的回答记录。")
        return JsonResponse({"id": stored.question_id, "vote": stored.vote.value, "reason": stored.reason})

    def _caller(self, request: Request) -> str:
        """Return who calls: the API key's index when keys are on, else the client address."""
        key_index = self.keys.identify(request.headers.get("authorization")) if self.keys.enabled else None
        if key_index is not None:
            return f"key:{key_index}"
        return f"ip:{request.client.host if request.client else 'unknown'}"

    async def topics(self, request: Request) -> Response:
        """GET /v1/topics: every topic with its entries' ids and first questions."""
        self.guard(request)
        service = self.service
        return JsonResponse(
            {
                "topics": [
                    {
                        "id": topic.id,
                        "title": topic.title,
                        "entries": [{"id": e.id, "question": e.questions[0]} for e in service.topic_entries(topic.id)],
                    }
                    for topic in service.topics()
                ]
            }
        )

    async def entry(self, request: Request) -> Response:
        """GET /v1/entries/{id}: one entry with its questions, reply, facts and sources."""
        self.guard(request)
        entry = self.service.entry_dict(request.path_params["id"])
        if entry is None:
            raise ApiError(404, "not_found", "没有这个编号的条目；可用的编号见 GET /v1/topics。")
        return JsonResponse(entry)

    async def health(self, request: Request) -> Response:
        """GET /healthz: the engine answers a known question with its figure, and the store takes writes.

        200 `ok`; 200 `degraded` when only the store fails (answers go on, unrecorded); 503 `failing` when the
        engine does not answer right.
        """
        checks = await self.health_checks.run()
        status = "failing" if checks["engine"] != "ok" else ("ok" if checks["store"] == "ok" else "degraded")
        body = {
            "status": status,
            "checks": checks,
            "knowledge_base": {
                "loaded": True,
                "topics": len(self.service.topics()),
                "entries": self.service.entry_count,
                "version": self.service.kb_version,
                "loaded_at": self.service.loaded_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            },
        }
        return JsonResponse(body, status_code=503 if status == "failing" else 200)

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
    service: Assistant,
    settings: Settings,
    *,
    telegram_route: BaseRoute | None = None,
    metrics: Metrics | None = None,
    dispatcher: Dispatcher | None = None,
    reloader: Reloader | None = None,
    startup: Sequence[Hook] = (),
    shutdown: Sequence[Hook] = (),
) -> Starlette:
    """Build the server's one ASGI app on a service.

    The app subscribes to the service only what it creates: without `metrics` it makes its own registry and
    subscribes it. The lifespan opens the service's store (a store that cannot open leaves the server
    answering, degraded, and is retried), starts the escalation dispatcher and the store's upkeep (pruning), then
    runs `startup`; on the way out (also after a failed start) it runs every `shutdown` hook in reverse order,
    then stops the dispatcher and closes the store. `reloader` is the one the admin console reloads through
    (serve passes the one SIGHUP uses); the console is mounted at /admin (a note that it is disabled when no
    admin secret is set).
    """
    if metrics is None:
        metrics = Metrics()
        service.subscribe(metrics.observe)
    metrics.knowledge_base(service.kb_version, service.entry_count)
    service.on_swap = metrics.knowledge_base
    service.store_health.on_failure = metrics.store_failures.inc
    api = Api(service, settings, metrics)
    routes: list[BaseRoute] = [
        Route("/v1/ask", api.counted("/v1/ask", api.ask), methods=["POST"]),
        Route("/v1/feedback", api.counted("/v1/feedback", api.feedback), methods=["POST"]),
        Route("/v1/topics", api.counted("/v1/topics", api.topics), methods=["GET"]),
        Route("/v1/entries/{id}", api.counted("/v1/entries/{id}", api.entry), methods=["GET"]),
        Route("/healthz", api.counted("/healthz", api.health), methods=["GET"]),
        Route("/metrics", api.metrics_endpoint, methods=["GET"]),
        Route("/openapi.json", api.openapi_endpoint, methods=["GET"]),
    ]
    from bot.web import web_routes  # bot.web builds on this module's API pieces

    routes += web_routes(api)
    from bot.admin import admin_routes  # /admin: the console when ADMIN_PASSWORD or ADMIN_TOKEN is set

    routes += admin_routes(api, reloader if reloader is not None else Reloader(service, settings))
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

    upkeep = StoreUpkeep(service, retention_days=settings.data_retention_days)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await upkeep.start()
        if dispatcher is not None:
            await dispatcher.start()
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
            if dispatcher is not None:
                await dispatcher.stop()
            await upkeep.stop()

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_exception, Exception: _server_error},
        lifespan=lifespan,
    )
    app.state.api = api
    app.state.metrics = metrics
    return app
