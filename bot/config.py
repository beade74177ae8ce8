"""All settings, read from the environment (and an optional .env file) in this one place."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SECRET_FIELDS = frozenset(
    {"telegram_bot_token", "webhook_secret", "api_keys", "escalation_webhook_secret", "user_hash_salt"}
) | {"wechat_token", "wechat_aes_key", "wecom_token", "wecom_aes_key", "admin"}


MIN_SECRET_CHARS = 16
"""Shortest accepted secret: a short one is guessable, and its redaction would wreck ordinary log lines."""
URL_FIELDS = frozenset({"telegram_base_url", "webhook_url", "escalation_webhook_url", "database_url"})
_SECRET_QUERY_KEYS = ("token", "key", "secret", "pass", "sig", "auth", "credential", "session")
MASK = "***"


def _is_secret_key(name: str) -> bool:
    lowered = name.lower()
    return any(part in lowered for part in _SECRET_QUERY_KEYS)


def url_secrets(url: str | None, *, user: bool = True) -> tuple[str, ...]:
    """Return the secret parts of a URL: its `user:password@` credentials and secret-looking query values.

    user=False keeps the user name out (a database role such as `postgres` is no secret, and redacting it
    would maim every log line naming PostgreSQL).
    """
    if not url:
        return ()
    parts = urlsplit(url)
    found = [v for v in ((parts.username if user else None), parts.password) if v]
    found += [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if v and _is_secret_key(k)]
    return tuple(found)


def mask_url(url: str | None) -> str | None:
    """Return the URL with credentials and secret-looking query values replaced by ***, safe to print."""
    if not url:
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    query = urlencode(
        [(k, MASK if v and _is_secret_key(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _secret(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if len(raw) < MIN_SECRET_CHARS:
        raise ConfigError(f"{name} is too short: use at least {MIN_SECRET_CHARS} characters")
    return raw


class ConfigError(ValueError):
    """A setting has a value the assistant cannot use; the message names the variable."""


SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
"""scrypt's cost for the admin password (16 MiB, some tens of milliseconds a check)."""
_SESSION_KEY_LABEL = b"hohhot-assistant admin session key v1"


@dataclass(frozen=True, slots=True)
class AdminCredentials:
    """The admin console's secrets as kept after start: the password only as a salted scrypt hash, the token
    only as its SHA-256 digest, and the key that signs session cookies. None of it is printed (repr is empty)."""

    password_salt: bytes = field(repr=False)
    password_hash: bytes | None = field(repr=False)
    token_digest: bytes | None = field(repr=False)
    session_key: bytes = field(repr=False)
    """HMAC of the admin secrets keyed by USER_HASH_SALT: the same on every replica, never the secret itself."""

    @classmethod
    def create(cls, *, password: str | None, token: str | None, salt: str | None) -> AdminCredentials:
        """Return the kept form of the configured password and token (at least one must be given)."""
        if not password and not token:
            raise ValueError("an admin password or token is needed")
        password_salt = secrets.token_bytes(16)
        password_hash = _scrypt(password, password_salt) if password else None
        token_digest = hashlib.sha256(token.encode()).digest() if token else None
        material = b"".join(
            hashlib.sha256(part.encode()).digest() if part else b"-" for part in (password, token)
        )
        key = hmac.new(_SESSION_KEY_LABEL + b":" + (salt or "").encode(), material, hashlib.sha256).digest()
        return cls(password_salt, password_hash, token_digest, key)

    def matches(self, candidate: str) -> bool:
        """Return True when candidate is the admin password or the admin token (both checked, in constant time)."""
        given = candidate.encode("utf-8", "surrogatepass")
        ok = False
        if self.password_hash is not None:
            ok |= hmac.compare_digest(_scrypt_bytes(given, self.password_salt), self.password_hash)
        if self.token_digest is not None:
            ok |= hmac.compare_digest(hashlib.sha256(given).digest(), self.token_digest)
        return ok


def _scrypt_bytes(secret: bytes, salt: bytes) -> bytes:
    return hashlib.scrypt(secret, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)


def _scrypt(secret: str, salt: bytes) -> bytes:
    return _scrypt_bytes(secret.encode("utf-8", "surrogatepass"), salt)


def _admin(env: Mapping[str, str]) -> AdminCredentials | None:
    """Read ADMIN_PASSWORD and ADMIN_TOKEN into their kept form; the plain text goes no further."""
    password, token = _secret(env, "ADMIN_PASSWORD"), _secret(env, "ADMIN_TOKEN")
    if password is None and token is None:
        return None
    return AdminCredentials.create(password=password, token=token, salt=env.get("USER_HASH_SALT", "").strip())


def read_dotenv(path: Path) -> dict[str, str]:
    """Return KEY=VALUE pairs from a .env file: comments, blank lines and `export ` prefixes allowed."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (invalid byte at offset {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ConfigError(f"{path}:{number}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _url(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must be an http:// or https:// URL")
    return raw.rstrip("/")


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    out: list[str] = []
    for raw in env.get(name, "").split(","):
        origin = raw.strip().rstrip("/")
        if not origin:
            continue
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query or "@" in origin:
            raise ConfigError(f"{name}: {origin!r} is not an origin like https://www.example.gov.cn")
        out.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return tuple(dict.fromkeys(out))


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower() or default
    if raw not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


def _wechat(env: Mapping[str, str]) -> dict[str, str | None]:
    token = env.get("WECHAT_TOKEN", "").strip() or None
    app_id = env.get("WECHAT_APP_ID", "").strip() or None
    aes_key = env.get("WECHAT_AES_KEY", "").strip() or None
    from bot.wechat.crypto import decode_aes_key

    if aes_key is not None:
        try:
            decode_aes_key(aes_key)
        except ValueError as exc:
            raise ConfigError(f"WECHAT_AES_KEY: {exc}") from None
        if app_id is None:
            raise ConfigError("WECHAT_AES_KEY (safe mode) needs WECHAT_APP_ID, the app id messages are encrypted for")
    names = ("wecom_token", "wecom_aes_key", "wecom_corp_id")
    wecom = {name: env.get(name.upper(), "").strip() or None for name in names}
    if any(wecom.values()):
        missing = [name.upper() for name, value in wecom.items() if value is None]
        if missing:
            raise ConfigError(f"WeCom needs WECOM_TOKEN, WECOM_AES_KEY and WECOM_CORP_ID; missing {', '.join(missing)}")
        try:
            decode_aes_key(wecom["wecom_aes_key"] or "")
        except ValueError as exc:
            raise ConfigError(f"WECOM_AES_KEY: {exc}") from None
    return {"wechat_token": token, "wechat_app_id": app_id, "wechat_aes_key": aes_key, **wecom}


def _database_url(env: Mapping[str, str], token: str | None) -> str | None:
    """Read DATABASE_URL; with it (several replicas) the shared secrets must be given, not generated."""
    raw = env.get("DATABASE_URL", "").strip()
    if not raw:
        return None
    scheme = raw.partition("://")[0].lower()
    if scheme not in ("postgresql", "postgres", "postgresql+asyncpg"):
        raise ConfigError("DATABASE_URL must be a postgresql:// URL (leave it unset for SQLite under DATA_DIR)")
    # Replicas generating their own would each hash users differently and refuse each other's webhook posts.
    if not env.get("USER_HASH_SALT", "").strip():
        raise ConfigError("USER_HASH_SALT is required with DATABASE_URL: every replica must hash users alike")
    if token is not None and not env.get("WEBHOOK_SECRET", "").strip():
        raise ConfigError("WEBHOOK_SECRET is required with DATABASE_URL: every replica must check the same secret")
    return raw


def _ids(env: Mapping[str, str], name: str) -> frozenset[int]:
    raw = [part.strip() for part in env.get(name, "").split(",") if part.strip()]
    try:
        return frozenset(int(part) for part in raw)
    except ValueError:
        raise ConfigError(f"{name} must be comma-separated Telegram user ids (whole numbers)") from None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True, slots=True)
class Settings:
    """The effective configuration; see the README's table of environment variables."""

    telegram_bot_token: str | None = None
    telegram_base_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    api_keys: tuple[str, ...] = ()
    rate_limit_per_minute: int = 60
    chat_rate_limit_per_minute: int = 20
    escalation_webhook_url: str | None = None
    escalation_webhook_secret: str | None = None
    log_format: str = "text"
    log_level: str = "INFO"
    user_hash_salt: str | None = None
    """Salt of the user-id hashes in webhooks and logs; random per process when unset (hashes then change)."""
    wechat_token: str | None = None
    wechat_app_id: str | None = None
    wechat_aes_key: str | None = None
    wecom_token: str | None = None
    wecom_aes_key: str | None = None
    wecom_corp_id: str | None = None
    knowledge_dir: Path | None = None
    """The knowledge base to load (and reload); None: the packaged knowledge/data."""
    admin_ids: frozenset[int] = frozenset()
    """Telegram user ids that may use /stats, /unanswered and /reload."""
    data_dir: Path = Path("data")
    """Where the SQLite store lives (assistant.db) when DATABASE_URL is unset."""
    database_url: str | None = None
    """PostgreSQL for several replicas; unset: SQLite under data_dir."""
    data_retention_days: int = 180
    context_ttl_seconds: int = 600
    """How long a conversation's choices stay answerable by number."""
    escalation_timeout_seconds: int = 10
    """How long one delivery attempt to the escalation webhook may take."""
    escalate_suggestions: bool = False
    """Also hand questions that only got suggestions to the escalation webhook."""
    replicas: int = 1
    """How many serve processes share the database: per-process rate limits are divided by it."""
    web_allowed_origins: tuple[str, ...] = ()
    """Sites (scheme://host[:port]) that may embed the chat page and call /web/* besides the server itself."""
    admin: AdminCredentials | None = None
    """The admin console's credentials (ADMIN_PASSWORD, ADMIN_TOKEN); None: the console is disabled."""
    admin_session_hours: int = 8
    """How long an admin console session lasts after logging in."""

    def per_replica(self, per_minute: int) -> int:
        """Return one replica's share of a per-minute limit (each replica counts only what it receives)."""
        return max(1, -(-per_minute // self.replicas))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
        """Read settings from the environment, with a .env file filling in what the environment lacks."""
        env: dict[str, str] = read_dotenv(dotenv) if dotenv is not None else {}
        env.update(os.environ if environ is None else environ)
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip() or None
        if token is not None and (":" not in token or any(c.isspace() for c in token)):
            raise ConfigError("TELEGRAM_BOT_TOKEN does not look like a bot token (expected digits:letters)")
        secret = _secret(env, "WEBHOOK_SECRET")
        if secret is not None and (
            len(secret) > 256 or not all(c.isascii() and (c.isalnum() or c in "_-") for c in secret)
        ):
            raise ConfigError("WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - (at most 256 characters)")
        keys = tuple(k.strip() for k in env.get("API_KEYS", "").split(",") if k.strip())
        if any(len(k) < MIN_SECRET_CHARS for k in keys):
            raise ConfigError(f"API_KEYS: every key needs at least {MIN_SECRET_CHARS} characters")
        return cls(
            telegram_bot_token=token,
            telegram_base_url=_url(env, "TELEGRAM_BASE_URL"),
            webhook_url=_url(env, "WEBHOOK_URL"),
            webhook_secret=secret,
            host=env.get("HOST", "").strip() or "127.0.0.1",
            port=_int(env, "PORT", 8080, 1, 65535),
            api_keys=keys,
            rate_limit_per_minute=_int(env, "RATE_LIMIT_PER_MINUTE", 60, 1, 100_000),
            chat_rate_limit_per_minute=_int(env, "CHAT_RATE_LIMIT_PER_MINUTE", 20, 1, 10_000),
            escalation_webhook_url=_url(env, "ESCALATION_WEBHOOK_URL"),
            escalation_webhook_secret=_secret(env, "ESCALATION_WEBHOOK_SECRET"),
            log_format=_choice(env, "LOG_FORMAT", "text", ("text", "json")),
            log_level=_choice(env, "LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper(),
            user_hash_salt=_secret(env, "USER_HASH_SALT"),
            web_allowed_origins=_origins(env, "WEB_ALLOWED_ORIGINS"),
            **_wechat(env),
            data_dir=Path(env.get("DATA_DIR", "").strip() or "data"),
            knowledge_dir=Path(env["KNOWLEDGE_DIR"].strip()) if env.get("KNOWLEDGE_DIR", "").strip() else None,
            admin_ids=_ids(env, "ADMIN_IDS"),
            database_url=_database_url(env, token),
            data_retention_days=_int(env, "DATA_RETENTION_DAYS", 180, 1, 36_500),
            context_ttl_seconds=_int(env, "CONTEXT_TTL_SECONDS", 600, 10, 86_400),
            escalate_suggestions=_bool(env, "ESCALATE_SUGGESTIONS", False),
            escalation_timeout_seconds=_int(env, "ESCALATION_TIMEOUT_SECONDS", 10, 1, 120),
            replicas=_int(env, "REPLICAS", 1, 1, 1000),
            admin=_admin(env),
            admin_session_hours=_int(env, "ADMIN_SESSION_HOURS", 8, 1, 168),
        )

    def with_webhook_secret(self) -> Settings:
        """Return settings with a webhook secret, generating a random one when none was configured."""
        if self.webhook_secret:
            return self
        return replace(self, webhook_secret=secrets.token_urlsafe(32))

    def masked(self) -> dict[str, Any]:
        """Return the settings as a dict safe to print: secrets shown only as set or not."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS:
                if isinstance(value, tuple):
                    value = f"<{len(value)} set>" if value else None
                else:
                    value = "<set>" if value else None
            elif f.name in URL_FIELDS:
                value = mask_url(value)
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, frozenset):
                value = f"<{len(value)} set>" if value else None
            out[f.name] = value
        return out


def engine_cache_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """Return the engine's cache folder: JIEBA_CACHE_DIR, else $XDG_CACHE_HOME/hohhot-assistant, else None (the
    engine's default). The engine reads no environment; this is where the folder comes from."""
    env = os.environ if environ is None else environ
    if env.get("JIEBA_CACHE_DIR"):
        return Path(env["JIEBA_CACHE_DIR"])
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]) / "hohhot-assistant"
    return None
