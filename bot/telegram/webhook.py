"""The Starlette route Telegram posts updates to: check the secret, queue the update, acknowledge at once."""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1 << 20
"""Updates are a few kilobytes; anything this large is not from Telegram."""


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def telegram_webhook_route(application: Application[Any, Any, Any, Any, Any, Any], secret: str) -> Route:
    """Return the route for POST /telegram/webhook, feeding the application's update queue."""
    if not secret:
        raise ValueError("the webhook needs a secret token")
    expected = secret.encode()

    async def telegram_webhook(request: Request) -> Response:
        """Queue one update from Telegram; 403 without the right secret, 400 when it is not an update."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return _error(403, "wrong or missing secret token")
        declared = request.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return _error(413, "update too large")
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():  # streamed with a cap: a huge body is never held in memory
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    return _error(413, "update too large")
                chunks.append(chunk)
        except ClientDisconnect:
            return _error(400, "client disconnected")
        try:
            data = json.loads(b"".join(chunks).decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return _error(400, "body is not JSON")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return _error(400, "body is not a Telegram update")
        try:
            update = Update.de_json(data, application.bot)
        except Exception:  # PTB assumes well-formed updates: "message": "hello" fails deep inside de_json
            logger.info("refused a webhook body that is not a Telegram update")
            return _error(400, "body is not a Telegram update")
        # Acknowledge at once: the answer is sent by the application, so a slow reply never makes Telegram retry.
        await application.update_queue.put(update)
        return Response(status_code=200)

    return Route(WEBHOOK_PATH, telegram_webhook, methods=["POST"], name="telegram_webhook")
