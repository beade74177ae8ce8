"""The API's error shape, {"error": code, "message": 中文说明}, and the exception handlers that produce it."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ExceptionHandler

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """A request the API refuses: an HTTP status, an English error code and a Chinese message for people."""

    def __init__(self, status: int, error: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.message = message
        self.headers = headers or {}


def rate_limited(what: str, retry_after: int, headers: Mapping[str, str] | None = None) -> ApiError:
    """Return the 429 refusal of a rate limit: what was too frequent (in Chinese), and when to try again."""
    return ApiError(
        429,
        "rate_limited",
        f"{what}，请 {retry_after} 秒后再试。",
        {"Retry-After": str(retry_after), **(headers or {})},
    )


class JsonResponse(Response):
    """A JSON response in UTF-8 that never fails to render (stray surrogates are escaped, not fatal)."""

    media_type = "application/json"

    def __init__(self, content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> None:
        # Questions echo user input (HTML included): forbid browsers from sniffing it into a page.
        super().__init__(content, status_code, {**(headers or {}), "X-Content-Type-Options": "nosniff"})

    def render(self, content: Any) -> bytes:
        """Return content as compact JSON bytes."""
        try:
            return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def error_response(status: int, error: str, message: str, headers: Mapping[str, str] | None = None) -> JsonResponse:
    """Return the API's error shape: {"error": code, "message": 中文说明}."""
    return JsonResponse({"error": error, "message": message}, status_code=status, headers=headers)


async def api_error(request: Request, exc: Exception) -> Response:
    """Answer a refused request (ApiError) with its status, code, message and headers."""
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.error, exc.message, exc.headers)


async def client_disconnected(request: Request, exc: Exception) -> Response:
    """Answer a body cut off by the client (it rarely reads the answer, but the status is counted)."""
    return error_response(400, "client_disconnected", "客户端在请求体传完之前断开了连接。")


async def http_exception(request: Request, exc: Exception) -> Response:
    """Answer Starlette's own refusals (unknown path, wrong method) in the API's shape, not plain text."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        return error_response(405, "method_not_allowed", "这个接口不支持该请求方法。", headers)
    if exc.status_code == 404:
        return error_response(404, "not_found", "没有这个接口；接口说明见 GET /openapi.json。")
    return error_response(exc.status_code, "http_error", "请求无法处理。", headers)


async def server_error(request: Request, exc: Exception) -> Response:
    """Log an unexpected failure and answer 500 in the API's shape."""
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "服务器内部错误，请稍后再试。")


EXCEPTION_HANDLERS: Mapping[Any, ExceptionHandler] = {
    ApiError: api_error,
    ClientDisconnect: client_disconnected,
    HTTPException: http_exception,
    Exception: server_error,
}
"""Every exception a request can end in, mapped to the JSON error shape (Starlette's `exception_handlers`)."""
