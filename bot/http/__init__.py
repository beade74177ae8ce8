"""The HTTP server's ASGI app: `create_app(service, settings)`."""

from bot.http.app import create_app
from bot.http.errors import ApiError
from bot.http.limits import MAX_BODY_BYTES

__all__ = ["MAX_BODY_BYTES", "ApiError", "create_app"]
