"""The Starlette route Telegram posts updates to: check the secret, queue the update, acknowledge at once."""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from starlette.requests import Request
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
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _error(413, "update too large")
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return _error(400, "body is not JSON")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return _error(400, "body is not a Telegram update")
        try:
            update = Update.de_json(data, application.bot)
        except (KeyError, TypeError, ValueError):
            return _error(400, "body is not a Telegram update")
        # Acknowledge at once: the answer is sent by the application, so a slow reply never makes Telegram retry.
        await application.update_queue.put(update)
        return Response(status_code=200)

    return Route(WEBHOOK_PATH, telegram_webhook, methods=["POST"], name="telegram_webhook")
