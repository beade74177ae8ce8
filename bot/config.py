"""All settings, read from the environment (and an optional .env file) in this one place, by pydantic-settings."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import types
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self, get_args
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BeforeValidator, SecretStr, ValidationError, ValidationInfo, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

MIN_SECRET_CHARS = 16
"""Shortest accepted secret: a short one is guessable, and its redaction would wreck ordinary log lines."""
URL_FIELDS = frozenset({"telegram_base_url", "webhook_url", "escalation_webhook_url", "database_url"})
_SECRET_QUERY_KEYS = ("token", "key", "secret", "pass", "sig", "auth", "credential", "session")
MASK = "***"
CACHE_FOLDER = "hohhot-assistant"
"""The engine's cache folder under $XDG_CACHE_HOME when JIEBA_CACHE_DIR is unset."""


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


class ConfigError(ValueError):
    """A setting has a value the assistant cannot use; the message names the variable."""


SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
"""scrypt's cost for the admin password (16 MiB, some tens of milliseconds a check)."""
_SESSION_KEY_LABEL = b"hohhot-assistant admin session key v1"


@dataclass(frozen=True, slots=True)
class KeptSecret:
    """A secret kept only as hashes once read (the admin password and token): its SHA-256 digest, and a salted
    scrypt hash to check a candidate against. The plain text is not kept anywhere; repr shows nothing."""

    digest: bytes = field(repr=False)
    salt: bytes = field(repr=False)
    scrypt_hash: bytes = field(repr=False)

    @classmethod
    def of(cls, plain: str) -> KeptSecret:
        """Return the kept form of a secret."""
        salt = secrets.token_bytes(16)
        return cls(hashlib.sha256(plain.encode("utf-8", "surrogatepass")).digest(), salt, _scrypt(plain, salt))

    def matches(self, candidate: bytes) -> bool:
        """Return True when candidate (UTF-8 bytes) is the secret, compared in constant time."""
        return hmac.compare_digest(_scrypt_bytes(candidate, self.salt), self.scrypt_hash)


@dataclass(frozen=True, slots=True)
class AdminCredentials:
    """The admin console's secrets as the console keeps them (hashes only) and the key that signs session cookies.
    None of it is printed (repr is empty)."""

    password: KeptSecret | None = field(repr=False)
    token: KeptSecret | None = field(repr=False)
    session_key: bytes = field(repr=False)
    """HMAC of the admin secrets' digests keyed by USER_HASH_SALT: the same on every replica, never a secret."""

    @classmethod
    def create(
        cls, *, password: KeptSecret | str | None, token: KeptSecret | str | None, salt: str | None
    ) -> AdminCredentials:
        """Return the credentials of the configured password and token (at least one must be given)."""
        kept = [KeptSecret.of(p) if isinstance(p, str) else p for p in (password, token)]
        if kept[0] is None and kept[1] is None:
            raise ValueError("an admin password or token is needed")
        material = b"".join(k.digest if k is not None else b"-" for k in kept)
        key = hmac.new(_SESSION_KEY_LABEL + b":" + (salt or "").encode(), material, hashlib.sha256).digest()
        return cls(kept[0], kept[1], key)

    def matches(self, candidate: str) -> bool:
        """Return True when candidate is the admin password or the admin token (both checked, in constant time)."""
        given = candidate.encode("utf-8", "surrogatepass")
        ok = False
        for kept in (self.password, self.token):
            if kept is not None:
                ok |= kept.matches(given)
        return ok


def _scrypt_bytes(secret: bytes, salt: bytes) -> bytes:
    return hashlib.scrypt(secret, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)


def _scrypt(secret: str, salt: bytes) -> bytes:
    return _scrypt_bytes(secret.encode("utf-8", "surrogatepass"), salt)


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


class Mode(StrEnum):
    """How the assistant talks to Telegram, decided by TELEGRAM_BOT_TOKEN and WEBHOOK_URL."""

    API = "api"
    """No token: `serve` runs the JSON API alone (and `python -m bot` without a subcommand, the console)."""
    WEBHOOK = "webhook"
    """Token and WEBHOOK_URL: Telegram pushes updates to POST /telegram/webhook."""
    POLLING = "polling"
    """Token, no WEBHOOK_URL: long polling beside the API."""


# --- Validators: each takes what a variable holds (a string) or what a caller passes (a value) -----------------


def _problem(message: str) -> PydanticCustomError:
    """Return a validation error whose message is printed as it is (it names the variable, never a secret)."""
    return PydanticCustomError("setting", message)


def _variable(info: ValidationInfo) -> str:
    assert info.field_name is not None
    return Settings.variable(info.field_name)


def _plain(value: object) -> object:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def _whole(low: int, high: int) -> BeforeValidator:
    """Accept a whole number from low to high."""

    def check(value: object, info: ValidationInfo) -> object:
        name = _variable(info)
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise _problem(f"{name} must be a whole number, got {value!r}") from None
        if isinstance(value, int) and not isinstance(value, bool) and not low <= value <= high:
            raise _problem(f"{name} must be between {low} and {high}, got {value}")
        return value

    return BeforeValidator(check)


def _secret(value: object, info: ValidationInfo) -> object:
    """Accept a secret of at least MIN_SECRET_CHARS characters."""
    value = _plain(value)
    if isinstance(value, str) and len(value.strip()) < MIN_SECRET_CHARS:
        raise _problem(f"{_variable(info)} is too short: use at least {MIN_SECRET_CHARS} characters")
    return value


def _kept(value: object, info: ValidationInfo) -> object:
    """Keep the admin password or token only as hashes, once its length is checked."""
    if value is None or isinstance(value, KeptSecret):
        return value
    plain = _secret(value, info)
    return None if plain is None or plain == "" else KeptSecret.of(str(plain).strip())


def _bot_token(value: object) -> object:
    value = _plain(value)
    if isinstance(value, str) and (":" not in value or any(c.isspace() for c in value)):
        raise _problem("TELEGRAM_BOT_TOKEN does not look like a bot token (expected digits:letters)")
    return value


def _webhook_secret(value: object, info: ValidationInfo) -> object:
    value = _secret(value, info)
    if isinstance(value, str) and (
        len(value) > 256 or not all(c.isascii() and (c.isalnum() or c in "_-") for c in value)
    ):
        raise _problem("WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - (at most 256 characters)")
    return value


def _api_keys(value: object) -> object:
    if isinstance(value, str):
        value = tuple(k.strip() for k in value.split(",") if k.strip())
    if isinstance(value, Iterable) and any(len(str(_plain(k))) < MIN_SECRET_CHARS for k in value):
        raise _problem(f"API_KEYS: every key needs at least {MIN_SECRET_CHARS} characters")
    return value


def _url(value: object, info: ValidationInfo) -> object:
    if isinstance(value, str):
        if not value.startswith(("http://", "https://")):
            raise _problem(f"{_variable(info)} must be an http:// or https:// URL")
        return value.rstrip("/")
    return value


def _origins(value: object, info: ValidationInfo) -> object:
    if not isinstance(value, str | Iterable):
        return value
    out: list[str] = []
    for raw in value.split(",") if isinstance(value, str) else value:
        origin = str(raw).strip().rstrip("/")
        if not origin:
            continue
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query or "@" in origin:
            raise _problem(f"{_variable(info)}: {origin!r} is not an origin like https://www.example.gov.cn")
        out.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return tuple(dict.fromkeys(out))


def _pick(value: object, info: ValidationInfo, allowed: tuple[str, ...]) -> object:
    if isinstance(value, str):
        value = value.strip().lower()
        if value not in allowed:
            raise _problem(f"{_variable(info)} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _choice(*allowed: str) -> BeforeValidator:
    """Accept one of allowed, in any case."""

    def check(value: object, info: ValidationInfo) -> object:
        return _pick(value, info, allowed)

    return BeforeValidator(check)


def _log_level(value: object, info: ValidationInfo) -> object:
    value = _pick(value, info, ("debug", "info", "warning", "error"))
    return value.upper() if isinstance(value, str) else value


def _ids(value: object, info: ValidationInfo) -> object:
    if isinstance(value, str):
        try:
            return frozenset(int(part.strip()) for part in value.split(",") if part.strip())
        except ValueError:
            raise _problem(f"{_variable(info)} must be comma-separated Telegram user ids (whole numbers)") from None
    return value


def _bool(value: object, info: ValidationInfo) -> object:
    if isinstance(value, str):
        raw = value.strip().lower()
        if raw in ("1", "true", "yes", "on"):
            return True
        if raw in ("0", "false", "no", "off"):
            return False
        raise _problem(f"{_variable(info)} must be true or false, got {raw!r}")
    return value


def _aes_key(value: object, info: ValidationInfo) -> object:
    value = _plain(value)
    if isinstance(value, str):
        from bot.wechat.crypto import decode_aes_key

        try:
            decode_aes_key(value)
        except ValueError as exc:
            raise _problem(f"{_variable(info)}: {exc}") from None
    return value


def _database_url(value: object) -> object:
    if isinstance(value, str):
        scheme = value.partition("://")[0].lower()
        if scheme not in ("postgresql", "postgres", "postgresql+asyncpg"):
            raise _problem("DATABASE_URL must be a postgresql:// URL (leave it unset for SQLite under DATA_DIR)")
    return value


Secret = Annotated[SecretStr | None, BeforeValidator(_secret)]
"""A secret of at least MIN_SECRET_CHARS characters, or None."""
Url = Annotated[str | None, BeforeValidator(_url)]
AesKey = Annotated[SecretStr | None, BeforeValidator(_aes_key)]
Kept = Annotated[KeptSecret | None, BeforeValidator(_kept)]
"""A secret (of at least MIN_SECRET_CHARS characters) kept only as hashes once read, or None."""


def _mentions_secret(annotation: object) -> bool:
    """Return True when a field's type is SecretStr or KeptSecret, or holds one (an optional one, a tuple)."""
    if annotation is SecretStr or annotation is KeptSecret:
        return True
    return any(_mentions_secret(arg) for arg in get_args(annotation) if arg is not Ellipsis)


class _Environment(PydanticBaseSettingsSource):
    """The variables of the environment over those of a .env file: each field's variable, blank meaning unset.

    The cache folder also follows $XDG_CACHE_HOME when JIEBA_CACHE_DIR is unset.
    """

    def __init__(self, settings_cls: type[BaseSettings], variables: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.variables = variables

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Return the field's raw value (None when its variable is unset or blank), its variable, and False."""
        assert issubclass(self.settings_cls, Settings)
        name = self.settings_cls.variable(field_name)
        raw = self.variables.get(name, "").strip()
        if not raw and field_name == "cache_dir" and self.variables.get("XDG_CACHE_HOME", "").strip():
            raw = str(Path(self.variables["XDG_CACHE_HOME"].strip()) / CACHE_FOLDER)
        return raw or None, name, False

    def __call__(self) -> dict[str, Any]:
        """Return every field whose variable is set."""
        values: dict[str, Any] = {}
        for name, info in self.settings_cls.model_fields.items():
            value, _, _ = self.get_field_value(info, name)
            if value is not None:
                values[name] = value
        return values


class Settings(BaseSettings):
    """The effective configuration; see the README's table of environment variables.

    Settings(...) holds exactly what it is given (tests, scripts); Settings.from_env() reads the environment
    and .env, once per process (bot.cli). Secrets are SecretStr: printed as `**********`, revealed only where
    used (`.get_secret_value()`), shown by masked() as <set> and redacted from the logs, found by their type.
    """

    model_config = SettingsConfigDict(
        frozen=True, extra="forbid", validate_default=False, arbitrary_types_allowed=True
    )
    _VARIABLES: ClassVar[Mapping[str, str]] = types.MappingProxyType({"cache_dir": "JIEBA_CACHE_DIR"})
    """Fields whose variable is not their name in capitals."""

    telegram_bot_token: Annotated[SecretStr | None, BeforeValidator(_bot_token)] = None
    telegram_base_url: Url = None
    webhook_url: Url = None
    webhook_secret: Annotated[SecretStr | None, BeforeValidator(_webhook_secret)] = None
    host: str = "127.0.0.1"
    port: Annotated[int, _whole(1, 65535)] = 8080
    api_keys: Annotated[tuple[SecretStr, ...], BeforeValidator(_api_keys)] = ()
    rate_limit_per_minute: Annotated[int, _whole(1, 100_000)] = 60
    chat_rate_limit_per_minute: Annotated[int, _whole(1, 10_000)] = 20
    escalation_webhook_url: Url = None
    escalation_webhook_secret: Secret = None
    log_format: Annotated[str, _choice("text", "json")] = "text"
    log_level: Annotated[str, BeforeValidator(_log_level)] = "INFO"
    user_hash_salt: Secret = None
    """Salt of the user-id hashes in webhooks and logs; random per process when unset (hashes then change)."""
    wechat_token: SecretStr | None = None
    wechat_app_id: str | None = None
    wechat_aes_key: AesKey = None
    wecom_token: SecretStr | None = None
    wecom_aes_key: AesKey = None
    wecom_corp_id: str | None = None
    knowledge_dir: Path | None = None
    """The knowledge base to load (and reload); None: the packaged knowledge/data."""
    admin_ids: Annotated[frozenset[int], BeforeValidator(_ids)] = frozenset()
    """Telegram user ids that may use /stats, /unanswered and /reload."""
    data_dir: Path = Path("data")
    """Where the SQLite store lives (assistant.db) when DATABASE_URL is unset."""
    database_url: Annotated[str | None, BeforeValidator(_database_url)] = None
    """PostgreSQL for several replicas; unset: SQLite under data_dir."""
    data_retention_days: Annotated[int, _whole(1, 36_500)] = 180
    context_ttl_seconds: Annotated[int, _whole(10, 86_400)] = 600
    """How long a conversation's choices stay answerable by number."""
    inbox_lease_seconds: Annotated[int, _whole(2, 600)] = 20
    """How long a Telegram update taken by one process is left to it: after a crash, what it held is answered by
    another replica (or the restarted process) this long after it was taken."""
    escalation_timeout_seconds: Annotated[int, _whole(1, 120)] = 10
    """How long one delivery attempt to the escalation webhook may take."""
    escalation_lease_seconds: Annotated[int | None, _whole(3, 3600)] = None
    """How long an escalation claimed by one process is left to it: after a crash, what it held is delivered by
    another replica (or the restarted process) this long after it was claimed. None: 2 timeouts + 5 s."""
    escalate_suggestions: Annotated[bool, BeforeValidator(_bool)] = False
    """Also hand questions that only got suggestions to the escalation webhook."""
    replicas: Annotated[int, _whole(1, 1000)] = 1
    """How many serve processes share the database: per-process rate limits are divided by it."""
    web_allowed_origins: Annotated[tuple[str, ...], BeforeValidator(_origins)] = ()
    """Sites (scheme://host[:port]) that may embed the chat page and call /web/* besides the server itself."""
    admin_password: Kept = None
    admin_token: Kept = None
    """The admin console's secrets (either enables it), kept only as hashes once read; see admin_credentials()."""
    admin_session_hours: Annotated[int, _whole(1, 168)] = 8
    """How long an admin console session lasts after logging in."""
    cache_dir: Path | None = None
    """The engine's cache folder (JIEBA_CACHE_DIR, else $XDG_CACHE_HOME/hohhot-assistant); None: the engine's
    default. The engine reads no environment: this is where the folder comes from."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Use only what is passed: the environment is read by from_env (a test never sees a developer's token)."""
        return (init_settings,)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        """Check the settings that need each other."""
        if self.wechat_aes_key is not None and self.wechat_app_id is None:
            raise _problem("WECHAT_AES_KEY (safe mode) needs WECHAT_APP_ID, the app id messages are encrypted for")
        wecom: dict[str, object] = {"WECOM_TOKEN": self.wecom_token, "WECOM_AES_KEY": self.wecom_aes_key}
        wecom["WECOM_CORP_ID"] = self.wecom_corp_id
        missing = [name for name, value in wecom.items() if value is None]
        if missing and len(missing) < len(wecom):
            raise _problem(f"WeCom needs WECOM_TOKEN, WECOM_AES_KEY and WECOM_CORP_ID; missing {', '.join(missing)}")
        lease = self.escalation_lease_seconds
        if lease is not None and lease <= 2 * self.escalation_timeout_seconds:
            # A claim must outlast its turn in the queue and the attempt itself, or it could be delivered twice.
            raise _problem(
                f"ESCALATION_LEASE_SECONDS ({lease}) must be more than twice ESCALATION_TIMEOUT_SECONDS "
                f"({self.escalation_timeout_seconds})"
            )
        if self.database_url is not None:
            # Replicas generating their own would each hash users differently and refuse each other's webhook posts.
            if self.user_hash_salt is None:
                raise _problem("USER_HASH_SALT is required with DATABASE_URL: every replica must hash users alike")
            if self.telegram_bot_token is not None and self.webhook_secret is None:
                raise _problem("WEBHOOK_SECRET is required with DATABASE_URL: every replica must check the same secret")
        return self

    @classmethod
    def variable(cls, field_name: str) -> str:
        """Return the environment variable a field is read from."""
        return cls._VARIABLES.get(field_name, field_name.upper())

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Return every field's environment variable, by field name."""
        return {name: cls.variable(name) for name in cls.model_fields}

    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        """Return the names of the fields that hold secrets (typed SecretStr, alone, optional or in a tuple)."""
        return tuple(name for name, info in cls.model_fields.items() if _mentions_secret(info.annotation))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Self:
        """Read settings from the environment, with a .env file filling in what the environment lacks.

        Raise ConfigError naming every variable that is wrong, one a line, without the value of a secret.
        """
        variables: dict[str, str] = read_dotenv(dotenv) if dotenv is not None else {}
        variables.update(os.environ if environ is None else environ)
        try:
            return cls(**_Environment(cls, variables)())
        except ValidationError as exc:
            raise ConfigError("\n".join(cls._explain(exc))) from None

    @classmethod
    def _explain(cls, error: ValidationError) -> Iterator[str]:
        """Yield one line per problem: ours name the variable already; pydantic's are prefixed with it (without
        the input, which may be a secret)."""
        for problem in error.errors(include_input=False, include_url=False):
            if problem["type"] == "setting":
                yield problem["msg"]
            else:
                where = problem["loc"][0] if problem["loc"] else None
                name = cls.variable(where) if isinstance(where, str) else "settings"
                yield f"{name}: {problem['msg']}"

    @property
    def mode(self) -> Mode:
        """Return how the assistant talks to Telegram: not at all, by webhook or by long polling."""
        if self.telegram_bot_token is None:
            return Mode.API
        return Mode.WEBHOOK if self.webhook_url else Mode.POLLING

    def per_replica(self, per_minute: int) -> int:
        """Return one replica's share of a per-minute limit (each replica counts only what it receives)."""
        return max(1, -(-per_minute // self.replicas))

    def admin_credentials(self) -> AdminCredentials | None:
        """Return the admin console's credentials (the kept hashes and the session key), or None when neither
        ADMIN_PASSWORD nor ADMIN_TOKEN is set: the console is off."""
        if self.admin_password is None and self.admin_token is None:
            return None
        return AdminCredentials.create(
            password=self.admin_password, token=self.admin_token, salt=reveal(self.user_hash_salt)
        )

    def with_webhook_secret(self) -> Self:
        """Return settings with a webhook secret, generating a random one when none was configured."""
        if self.webhook_secret is not None:
            return self
        return self.model_copy(update={"webhook_secret": SecretStr(secrets.token_urlsafe(32))})

    def secrets(self) -> tuple[str, ...]:
        """Return the value of every secret field (each API key on its own), unordered."""
        found: list[str] = []
        for name in self.secret_fields():
            value = getattr(self, name)
            for item in value if isinstance(value, tuple) else (value,):
                if isinstance(item, SecretStr) and item.get_secret_value():
                    found.append(item.get_secret_value())
        return tuple(found)

    def masked(self) -> dict[str, Any]:
        """Return the settings as a dict safe to print: secrets shown only as set or not."""
        secret = frozenset(self.secret_fields())
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name in secret:
                if isinstance(value, tuple):
                    value = f"<{len(value)} set>" if value else None
                else:
                    value = "<set>" if value else None
            elif name in URL_FIELDS:
                value = mask_url(value)
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, frozenset):
                value = f"<{len(value)} set>" if value else None
            out[name] = value
        return out


def reveal(secret: SecretStr | None) -> str | None:
    """Return a secret's value for the one place that uses it, or None when it is unset."""
    return None if secret is None else secret.get_secret_value()
