"""The HTTP server's ASGI app: `create_app(service, settings)`."""

from bot.http.app import MAX_BODY_BYTES, ApiError, create_app

__all__ = ["MAX_BODY_BYTES", "ApiError", "create_app"]
