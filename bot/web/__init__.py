"""The public chat page, its embeddable widget and the JSON endpoints the page calls."""

from bot.web.routes import WebEndpoints, web_routes

__all__ = ["WebEndpoints", "web_routes"]
