"""Configure logging for the server: plain text or JSON lines, with every configured secret redacted."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

from bot.config import URL_FIELDS, Settings, url_secrets

REDACTED = "[REDACTED]"
_OPENID = re.compile(r"(openid=)[^&\s\"]+", re.IGNORECASE)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_NOISY = {"httpx": logging.WARNING, "httpcore": logging.WARNING, "uvicorn.access": logging.WARNING}


def secrets_of(settings: Settings) -> tuple[str, ...]:
    """Return every secret value in settings (each SecretStr field, the secret parts of URLs), longest first."""
    values = [
        *settings.secrets(),
        *(
            secret
            for name in sorted(URL_FIELDS)
            for secret in url_secrets(getattr(settings, name), user=name != "database_url")
        ),
    ]
    return tuple(sorted({v for v in values if v}, key=len, reverse=True))


class RedactFilter(logging.Filter):
    """Replace secrets in a record's message, arguments, traceback and stack with [REDACTED]."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
        self._formatter = logging.Formatter()

    def redact(self, text: str) -> str:
        """Return text with every secret replaced."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        if "openid=" in text.lower():  # WeChat puts the user's raw OpenID in the query: access logs show it
            text = _OPENID.sub(rf"\1{REDACTED}", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drop it."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what we can, logging must not fail
            message = f"{record.msg} (arguments: {record.args!r})"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """Format each record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON line: time, level, logger, message and, when present, the exception."""
        when = datetime.fromtimestamp(record.created, UTC)
        out: dict[str, object] = {
            "time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exception"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return json.dumps(out, ensure_ascii=False)


def configure_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Send every log record to stderr (or stream) in the configured format, secrets redacted; return the handler."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT))
    # On the handler, not a logger: handler filters see records propagated from every library's logger too.
    handler.addFilter(RedactFilter(secrets_of(settings)))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    if settings.log_level != "DEBUG":
        for name, level in _NOISY.items():  # httpx logs every request URL at INFO, and Telegram's carry the token
            logging.getLogger(name).setLevel(level)
    return handler
