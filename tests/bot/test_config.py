"""Settings: secrets long enough, never printed; URLs printed without their credentials."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from bot.config import ConfigError, KeptSecret, Mode, Settings, mask_url, reveal
from bot.logging_setup import configure_logging, secrets_of

ROOT = Path(__file__).resolve().parents[2]

LONG = "s3cret-value-0123456789"


@pytest.mark.parametrize("name", ["WEBHOOK_SECRET", "ESCALATION_WEBHOOK_SECRET", "USER_HASH_SALT", "API_KEYS"])
def test_a_short_secret_is_refused_naming_the_variable_not_the_value(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({name: "k1"}, dotenv=None)
    assert name in str(caught.value) and "k1" not in str(caught.value)


def test_long_secrets_are_accepted() -> None:
    settings = Settings.from_env({"USER_HASH_SALT": LONG, "API_KEYS": f"{LONG}a,{LONG}b"}, dotenv=None)
    assert reveal(settings.user_hash_salt) == LONG and len(settings.api_keys) == 2


@pytest.mark.parametrize(
    ("url", "hidden", "kept"),
    [
        ("https://alice:pa55word@hooks.example.org/in", ["alice", "pa55word"], ["hooks.example.org/in"]),
        ("https://hooks.example.org/in?token=abc123xyz&team=ops", ["abc123xyz"], ["team=ops"]),
        ("https://h.example.org/x?api_key=K9&Signature=S8&sig=S7", ["K9", "S8", "S7"], ["h.example.org/x"]),
    ],
)
def test_config_prints_urls_without_their_secrets(url: str, hidden: list[str], kept: list[str]) -> None:
    printed = str(Settings.from_env({"ESCALATION_WEBHOOK_URL": url, "WEBHOOK_URL": url}, dotenv=None).masked())
    assert not any(secret in printed for secret in hidden)
    assert all(part in printed for part in kept)
    masked = mask_url(url)
    assert masked is not None and "***" in masked


def test_url_credentials_are_redacted_from_logs() -> None:
    url = "https://alice:pa55word-0123@hooks.example.org/in?token=tok-0123456789"
    stream = io.StringIO()
    handler = configure_logging(Settings(escalation_webhook_url=url), stream=stream)
    try:
        logging.getLogger("httpx").warning("HTTP Request: POST %s", url)
    finally:
        logging.getLogger().removeHandler(handler)
    logged = stream.getvalue()
    assert "hooks.example.org" in logged
    assert "pa55word-0123" not in logged and "tok-0123456789" not in logged


DATABASE = "postgresql://assistant:db-pa55word-0123@db.internal:5432/assistant"


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"DATABASE_URL": DATABASE}, "USER_HASH_SALT"),
        ({"DATABASE_URL": DATABASE, "USER_HASH_SALT": LONG, "TELEGRAM_BOT_TOKEN": "1:abc"}, "WEBHOOK_SECRET"),
    ],
)
def test_replicas_on_a_database_need_the_shared_secrets(env: dict[str, str], missing: str) -> None:
    with pytest.raises(ConfigError, match=missing) as caught:
        Settings.from_env(env, dotenv=None)
    assert "db-pa55word-0123" not in str(caught.value)


def test_replicas_divide_the_per_minute_limits() -> None:
    env = {"DATABASE_URL": DATABASE, "USER_HASH_SALT": LONG, "REPLICAS": "3", "RATE_LIMIT_PER_MINUTE": "60"}
    settings = Settings.from_env(env, dotenv=None)
    assert settings.replicas == 3 and settings.per_replica(60) == 20 and settings.per_replica(20) == 7
    assert settings.per_replica(1) == 1
    assert Settings().per_replica(60) == 60
    with pytest.raises(ConfigError, match="REPLICAS"):
        Settings.from_env({"REPLICAS": "0"}, dotenv=None)


def test_an_escalation_lease_must_outlast_two_delivery_attempts() -> None:
    assert Settings().escalation_lease_seconds is None  # the dispatcher's default: 2 timeouts + 5 s
    settings = Settings.from_env({"ESCALATION_TIMEOUT_SECONDS": "1", "ESCALATION_LEASE_SECONDS": "3"}, dotenv=None)
    assert settings.escalation_lease_seconds == 3
    with pytest.raises(ConfigError, match=r"ESCALATION_LEASE_SECONDS \(20\) must be more than twice"):
        Settings.from_env({"ESCALATION_LEASE_SECONDS": "20"}, dotenv=None)  # the timeout is 10 s by default
    with pytest.raises(ConfigError, match="ESCALATION_LEASE_SECONDS must be between 3 and 3600"):
        Settings.from_env({"ESCALATION_LEASE_SECONDS": "1"}, dotenv=None)


def test_the_database_password_is_never_printed_nor_logged() -> None:
    settings = Settings.from_env({"DATABASE_URL": DATABASE, "USER_HASH_SALT": LONG}, dotenv=None)
    printed = str(settings.masked())
    assert "db-pa55word-0123" not in printed and "db.internal:5432/assistant" in printed
    stream = io.StringIO()
    handler = configure_logging(settings, stream=stream)
    try:
        logging.getLogger("bot.store").error("cannot reach %s (postgresql)", DATABASE)
    finally:
        logging.getLogger().removeHandler(handler)
    logged = stream.getvalue()
    assert "db-pa55word-0123" not in logged and "postgresql" in logged


# --- pydantic-settings: secrets typed SecretStr, found by their type ----------------------------------------------

SECRETS = {
    "TELEGRAM_BOT_TOKEN": "123456789:AAsecretBotToken_0123456789",
    "WEBHOOK_SECRET": "webhook-secret-0123456789",
    "API_KEYS": "api-key-one-0123456789,api-key-two-0123456789",
    "ESCALATION_WEBHOOK_SECRET": "escalation-secret-0123456789",
    "USER_HASH_SALT": "user-hash-salt-0123456789",
    "WECHAT_TOKEN": "wechat-token-0123456789",
    "WECHAT_APP_ID": "wx0123456789abcdef",
    "WECHAT_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "WECOM_TOKEN": "wecom-token-0123456789",
    "WECOM_AES_KEY": "GFEDCBA9876543210zyxwvutsrqponmlkjihgfedcba",
    "WECOM_CORP_ID": "ww0123456789abcdef",
    "ADMIN_PASSWORD": "admin-password-0123456789",
    "ADMIN_TOKEN": "admin-token-0123456789abcdef",
}
SECRET_VALUES = [
    value
    for name, value in SECRETS.items()
    for value in value.split(",")
    if name not in ("WECHAT_APP_ID", "WECOM_CORP_ID")
]
KEPT_AS_HASHES = ("ADMIN_PASSWORD", "ADMIN_TOKEN")
"""Secrets the settings keep only as hashes once read: there is no plain text left to reveal or redact."""
REVEALABLE = [value for value in SECRET_VALUES if value not in {SECRETS[name] for name in KEPT_AS_HASHES}]


def _every_secret() -> Settings:
    return Settings.from_env(SECRETS, dotenv=None)


def test_every_secret_field_is_a_secretstr_found_by_its_type() -> None:
    assert set(Settings.secret_fields()) == {
        "telegram_bot_token",
        "webhook_secret",
        "api_keys",
        "escalation_webhook_secret",
        "user_hash_salt",
        "wechat_token",
        "wechat_aes_key",
        "wecom_token",
        "wecom_aes_key",
        "admin_password",
        "admin_token",
    }
    settings = _every_secret()
    assert all(isinstance(key, SecretStr) for key in settings.api_keys)
    assert sorted(settings.secrets()) == sorted(REVEALABLE)
    assert isinstance(settings.admin_password, KeptSecret) and isinstance(settings.admin_token, KeptSecret)


def test_no_secret_shows_in_repr_str_or_masked() -> None:
    settings = _every_secret()
    shown = f"{settings!r} {settings} {settings.masked()} {json.dumps(settings.masked())}"
    assert not [value for value in SECRET_VALUES if value in shown]
    masked = settings.masked()
    assert masked["api_keys"] == "<2 set>" and masked["telegram_bot_token"] == masked["admin_token"] == "<set>"
    assert masked["wechat_app_id"] == SECRETS["WECHAT_APP_ID"], "an app id is no secret"
    assert Settings().masked()["webhook_secret"] is None and Settings().masked()["api_keys"] is None


def test_no_secret_shows_in_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    settings = _every_secret()
    caplog.set_level(logging.DEBUG)
    logging.getLogger("tests.config").info("settings %s %r, masked %s", settings, settings, settings.masked())
    assert caplog.records and not [value for value in SECRET_VALUES if value in caplog.text]
    stream = io.StringIO()
    handler = configure_logging(settings, stream=stream)
    try:  # a library that logs a secret's value itself: redacted, whichever secret it is
        for value in REVEALABLE:
            logging.getLogger("httpx").warning("POST https://example.org/%s", value)
    finally:
        logging.getLogger().removeHandler(handler)
    logged = stream.getvalue()
    assert logged.count("[REDACTED]") == len(REVEALABLE)
    assert not [value for value in REVEALABLE if value in logged]


def test_python_m_bot_config_prints_no_secret(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if k not in Settings.variables().values()}
    environ |= SECRETS | {"PYTHONPATH": str(ROOT), "DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "config"], capture_output=True, text=True, env=environ, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["user_hash_salt"] == "<set>" and shown["api_keys"] == "<2 set>"
    assert not [value for value in SECRET_VALUES if value in done.stdout + done.stderr]


class _WithAnotherSecret(Settings):
    """Settings with one more secret, as a future field would add it: typed SecretStr, listed nowhere."""

    sms_gateway_key: SecretStr | None = None


def test_a_new_secretstr_field_is_masked_and_redacted_without_touching_a_list() -> None:
    settings = _WithAnotherSecret(sms_gateway_key="sms-key-0123456789", host="0.0.0.0")
    assert "sms_gateway_key" in settings.secret_fields()
    assert settings.masked()["sms_gateway_key"] == "<set>" and settings.masked()["host"] == "0.0.0.0"
    assert "sms-key-0123456789" not in repr(settings) and "sms-key-0123456789" in secrets_of(settings)


def test_each_bad_variable_is_named_on_its_own_line_without_a_secret() -> None:
    env = {
        "PORT": "http",
        "REPLICAS": "0",
        "LOG_FORMAT": "xml",
        "ESCALATE_SUGGESTIONS": "maybe",
        "WEBHOOK_SECRET": "short-secret",
        "ADMIN_TOKEN": "tiny-token",
        "TELEGRAM_BOT_TOKEN": "no-colon-in-this-token-value",
        "ESCALATION_WEBHOOK_URL": "ftp://hooks.example.org",
        "ADMIN_IDS": "12,abc",
    }
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env, dotenv=None)
    lines = str(caught.value).splitlines()
    assert len(lines) == len(env)
    for name in env:
        assert [line for line in lines if line.startswith(name)], f"{name} is not named"
    for secret in ("short-secret", "tiny-token", "no-colon-in-this-token-value"):
        assert secret not in str(caught.value)


def test_a_bad_value_passed_by_a_caller_is_refused_too() -> None:
    with pytest.raises(ValidationError, match="PORT must be between 1 and 65535"):
        Settings(port=0)
    with pytest.raises(ValidationError, match="USER_HASH_SALT is too short"):
        Settings(user_hash_salt="short")


def test_settings_built_in_code_never_read_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", SECRETS["TELEGRAM_BOT_TOKEN"])
    monkeypatch.setenv("PORT", "9999")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("HOST=0.0.0.0\n", encoding="utf-8")
    assert Settings() == Settings.model_validate({}) and Settings().mode is Mode.API and Settings().port == 8080
    read = Settings.from_env()
    assert (read.mode, read.port, read.host) == (Mode.POLLING, 9999, "0.0.0.0")


def test_the_environment_wins_over_dotenv_which_may_comment_quote_and_export(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# a comment\n\nexport PORT=8081\nHOST='0.0.0.0'\nLOG_LEVEL=\"debug\"\nREPLICAS = 2\n", encoding="utf-8"
    )
    settings = Settings.from_env({"PORT": "8082", "REPLICAS": " "}, dotenv=dotenv)
    assert (settings.port, settings.host, settings.log_level, settings.replicas) == (8082, "0.0.0.0", "DEBUG", 1)
    dotenv.write_bytes(b"HOST=\xff\n")
    with pytest.raises(ConfigError, match="not UTF-8") as caught:
        Settings.from_env({}, dotenv=dotenv)
    assert str(dotenv) in str(caught.value)
    dotenv.write_text("just words\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\.env:1: expected KEY=VALUE"):
        Settings.from_env({}, dotenv=dotenv)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"JIEBA_CACHE_DIR": "/srv/cache", "XDG_CACHE_HOME": "/home/u/.cache"}, Path("/srv/cache")),
        ({"XDG_CACHE_HOME": "/home/u/.cache"}, Path("/home/u/.cache/hohhot-assistant")),
        ({}, None),
    ],
)
def test_the_cache_folder_is_a_setting(env: dict[str, str], expected: Path | None) -> None:
    assert Settings.from_env(env, dotenv=None).cache_dir == expected
    assert Settings().cache_dir is None


def test_model_copy_and_a_generated_webhook_secret_stay_secret() -> None:
    settings = Settings(telegram_bot_token=SECRETS["TELEGRAM_BOT_TOKEN"], webhook_url="https://bot.example.org/hook")
    assert settings.mode is Mode.WEBHOOK
    with_secret = settings.with_webhook_secret()
    assert isinstance(with_secret.webhook_secret, SecretStr) and with_secret.webhook_secret.get_secret_value()
    assert with_secret.webhook_secret.get_secret_value() in secrets_of(with_secret)
    assert with_secret.with_webhook_secret() is with_secret
    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]  # frozen
