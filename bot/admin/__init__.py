"""The admin console (/admin): login, dashboard, review queue, test view, knowledge-base version, reload, export."""

from bot.admin.routes import admin_routes

__all__ = ["admin_routes"]
