"""The admin console's session cookie: signed (itsdangerous), timed, carrying the session's CSRF token.

The cookie holds no secret and no data: a random session id and a random CSRF token, signed with the key that
bot.config derives from the admin secrets and USER_HASH_SALT (the same on every replica, so any replica accepts
it). It expires after ADMIN_SESSION_HOURS; changing the password or token changes the key and ends every session.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "hohhot_admin"
COOKIE_PATH = "/admin"
CSRF_HEADER = "x-csrf-token"
_SALT = "hohhot-assistant admin session"


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in admin's session."""

    id: str
    csrf: str
    """The token every state-changing request must echo in the X-CSRF-Token header."""

    def csrf_matches(self, given: str | None) -> bool:
        """Return True when given is this session's CSRF token (compared in constant time)."""
        return given is not None and hmac.compare_digest(given.encode(), self.csrf.encode())


class Sessions:
    """Issue and check session cookies."""

    def __init__(self, key: bytes, *, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt=_SALT)
        self.max_age = max_age_seconds

    def issue(self) -> tuple[Session, str]:
        """Return a new session and its signed cookie value."""
        session = Session(secrets.token_urlsafe(16), secrets.token_urlsafe(32))
        return session, self._serializer.dumps({"sid": session.id, "csrf": session.csrf})

    def read(self, cookie: str | None) -> Session | None:
        """Return the session of a cookie value, or None when it is missing, tampered with or expired."""
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age)
        except BadSignature:  # SignatureExpired is a BadSignature too
            return None
        if not isinstance(data, dict):
            return None
        sid, csrf = data.get("sid"), data.get("csrf")
        if not isinstance(sid, str) or not isinstance(csrf, str) or not sid or not csrf:
            return None
        return Session(sid, csrf)
