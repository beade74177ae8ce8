"""Pure-ASGI middleware of the app: response counts by route template, and the /v1 guard (rate limit, API key)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from urllib.parse import urlsplit

from prometheus_client import Counter
from starlette.requests import Request
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.http.errors import ApiError, rate_limited
from bot.ratelimit import RateLimiter

AUTH_REALM = "hohhot-assistant"
UNMATCHED = "unmatched"
"""The one route label of every request no route takes (unknown paths), so label cardinality stays bounded."""


def route_template(routes: Sequence[BaseRoute], scope: Scope) -> str:
    """Return the template of the route the router will give a request ("/v1/entries/{id}"), or UNMATCHED.

    Routers take the first full match, else the first partial one (a known path with the wrong method: 405); a
    Mount's own routes are searched below its prefix.
    """
    partial: str | None = None
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, Mount):
            inner = route.routes
            if not inner:  # an app mounted whole (no routes of its own): the prefix is its template
                return route.path or "/"
            below = route_template(inner, {**scope, **child})
            return UNMATCHED if below == UNMATCHED else route.path + below
        path = getattr(route, "path", None)
        template = path if isinstance(path, str) else UNMATCHED
        if match is Match.FULL:
            return template
        if partial is None:
            partial = template
    return partial if partial is not None else UNMATCHED


class ResponseCounter:
    """Count every HTTP response by route template and status, the exception handlers' error responses too.

    It sits inside Starlette's ServerErrorMiddleware: an exception that passes through it becomes that
    middleware's 500 (counted here as 500), every other response is seen as it starts.
    """

    def __init__(self, app: ASGIApp, *, counter: Counter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on and count its response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = route_template(scope["app"].routes, scope)
        started = False

        async def counting_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                self.counter.labels(route, str(message["status"])).inc()
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        except Exception:
            if not started:
                self.counter.labels(route, "500").inc()
            raise


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


def request_origin(request: Request) -> str:
    """Return the request's Origin header, normalised (lower case, no trailing slash); empty when absent."""
    return (request.headers.get("origin") or "").strip().rstrip("/").lower()


def from_this_server(request: Request, origin: str) -> bool:
    """Return True when origin is this server itself (its host and port are the request's Host)."""
    host = (request.headers.get("host") or "").strip().lower()
    return bool(origin and host and urlsplit(origin).netloc == host)


def client_bucket(request: Request) -> str:
    """Return the rate-limit bucket of a caller without a key: its address."""
    return f"ip:{request.client.host if request.client else 'unknown'}"


class ApiGuard:
    """Rate-limit every request (by key, else by address), then check its key; refuse with ApiError (429, 401).

    Put on the Mount of the API's routes, so no handler can forget it. The caller's bucket ("key:0",
    "ip:10.0.0.1") is left in `request.state.caller` for handlers that tell callers apart (feedback).
    """

    def __init__(self, app: ASGIApp, *, keys: KeyRing, limiter: RateLimiter) -> None:
        self.app = app
        self.keys = keys
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Admit the request or raise ApiError."""
        if scope["type"] == "http":
            request = Request(scope)
            request.state.caller = self.admit(request)
        await self.app(scope, receive, send)

    def admit(self, request: Request) -> str:
        """Return the caller's bucket when the request may proceed; raise ApiError to refuse it."""
        key_index = self.keys.identify(request.headers.get("authorization")) if self.keys.enabled else None
        # Unauthenticated callers, including ones guessing keys, are limited per address.
        bucket = f"key:{key_index}" if key_index is not None else client_bucket(request)
        decision = self.limiter.hit(bucket)
        if not decision.allowed:
            raise rate_limited("请求过于频繁", decision.retry_after)
        if self.keys.enabled and key_index is None:
            given = request.headers.get("authorization") is not None
            challenge = f'Bearer realm="{AUTH_REALM}"' + (', error="invalid_token"' if given else "")
            raise ApiError(
                401,
                "unauthorized",
                "需要有效的 API 密钥：请在请求头中加上 Authorization: Bearer <密钥>。",
                {"WWW-Authenticate": challenge},
            )
        return bucket
