"""Settings: secrets long enough, never printed; URLs printed without their credentials."""

from __future__ import annotations

import io
import logging

import pytest

from bot.config import ConfigError, Settings, mask_url, reveal
from bot.logging_setup import configure_logging

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
