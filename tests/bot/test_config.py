"""Settings: secrets long enough, never printed; URLs printed without their credentials."""

from __future__ import annotations

import io
import logging

import pytest

from bot.config import ConfigError, Settings, mask_url
from bot.logging_setup import configure_logging

LONG = "s3cret-value-0123456789"


@pytest.mark.parametrize("name", ["WEBHOOK_SECRET", "ESCALATION_WEBHOOK_SECRET", "USER_HASH_SALT", "API_KEYS"])
def test_a_short_secret_is_refused_naming_the_variable_not_the_value(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({name: "k1"}, dotenv=None)
    assert name in str(caught.value) and "k1" not in str(caught.value)


def test_long_secrets_are_accepted() -> None:
    settings = Settings.from_env({"USER_HASH_SALT": LONG, "API_KEYS": f"{LONG}a,{LONG}b"}, dotenv=None)
    assert settings.user_hash_salt == LONG and len(settings.api_keys) == 2


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
