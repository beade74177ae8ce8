"""The one ASGI app: the JSON ask API, knowledge base browsing, health, metrics, OpenAPI and Telegram's webhook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from bot.config import Settings, reveal
from bot.escalation import Dispatcher
from bot.http.errors import EXCEPTION_HANDLERS, ApiError, JsonResponse
from bot.http.limits import MAX_BODY_BYTES
from bot.http.middleware import ApiGuard, KeyRing, ResponseCounter
from bot.http.openapi import build_openapi
from bot.http.wire import Answer, Feedback, parse_ask, parse_feedback
from bot.metrics import Metrics
from bot.ratelimit import RateLimiter
from bot.reload import Reloader
from bot.service import Asker, Assistant
from bot.store import StoreError, Vote

logger = logging.getLogger(__name__)

BODY_TIMEOUT_SECONDS = 15.0
"""Longest wait for the next piece of a request body: a body shorter than its Content-Length ends in a 408."""

Hook = Callable[[], Awaitable[None]]


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
        self.keys = KeyRing([key.get_secret_value() for key in settings.api_keys])
        self.limiter = RateLimiter(settings.per_replica(settings.rate_limit_per_minute))
        self.openapi = build_openapi(auth=self.keys.enabled, rate_limit_per_minute=settings.rate_limit_per_minute)

    async def ask(self, request: Request) -> Response:
        """POST /v1/ask: answer one question with the same JSON as `ask --json`."""
        asked = parse_ask(await read_body(request))
        reply = await self.service.ask(asked.question, Asker("api", chat_id=asked.chat_id, user_id=asked.chat_id))
        return JsonResponse(Answer.of(reply).model_dump())

    async def feedback(self, request: Request) -> Response:
        """POST /v1/feedback: a vote on a reply by its id; the same caller voting again changes the vote."""
        vote = parse_feedback(await read_body(request))
        # Without a chat_id the voter is the caller the guard admitted: its API key, else its address.
        user_id = vote.chat_id if vote.chat_id is not None else str(request.state.caller)
        voter = Asker("api", chat_id=vote.chat_id, user_id=user_id)
        stored = await self.service.feedback(vote.id, Vote(vote.vote), voter, reason=vote.reason)
        if stored is None:
            raise ApiError(404, "not_found", "没有这个 id 的回答记录。")
        return JsonResponse(Feedback(id=stored.question_id, vote=stored.vote.value, reason=stored.reason).model_dump())

    async def topics(self, request: Request) -> Response:
        """GET /v1/topics: every topic with its entries' ids and first questions."""
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
            "knowledge_base": {"loaded": True, **self.service.knowledge_base_status()},
        }
        return JsonResponse(body, status_code=503 if status == "failing" else 200)

    async def metrics_endpoint(self, request: Request) -> Response:
        """GET /metrics: Prometheus exposition text."""
        body, content_type = self.metrics.render()
        return Response(body, headers={"Content-Type": content_type})

    async def openapi_endpoint(self, request: Request) -> Response:
        """GET /openapi.json: the OpenAPI 3.1 description of this API."""
        return JsonResponse(self.openapi)


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
        Mount(
            "/v1",
            routes=[
                Route("/ask", api.ask, methods=["POST"]),
                Route("/feedback", api.feedback, methods=["POST"]),
                Route("/topics", api.topics, methods=["GET"]),
                Route("/entries/{id}", api.entry, methods=["GET"]),
            ],
            middleware=[Middleware(ApiGuard, keys=api.keys, limiter=api.limiter)],
        ),
        Route("/healthz", api.health, methods=["GET"]),
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

        config = WeChatConfig(
            settings.wechat_token.get_secret_value(), settings.wechat_app_id, reveal(settings.wechat_aes_key)
        )
        routes.append(wechat_route(service, config))
    if settings.wecom_token and settings.wecom_corp_id:
        from bot.wechat.routes import WeChatConfig, wechat_route

        token = settings.wecom_token.get_secret_value()
        config = WeChatConfig(token, settings.wecom_corp_id, reveal(settings.wecom_aes_key), wecom=True)
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
        middleware=[Middleware(ResponseCounter, counter=metrics.http_responses)],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.api = api
    app.state.metrics = metrics
    return app
