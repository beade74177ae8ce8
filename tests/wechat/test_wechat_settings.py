"""WeChat settings: read from the environment, validated at load, secrets masked and redacted."""

from __future__ import annotations

import pytest
from fake_wechat import AES_KEY, APP_ID, TOKEN

from bot.config import ConfigError, Settings, reveal
from bot.logging_setup import secrets_of


def test_wechat_settings_are_read_masked_and_redacted() -> None:
    env = {"WECHAT_TOKEN": TOKEN, "WECHAT_APP_ID": APP_ID, "WECHAT_AES_KEY": AES_KEY}
    settings = Settings.from_env(env, dotenv=None)
    wechat = (reveal(settings.wechat_token), settings.wechat_app_id, reveal(settings.wechat_aes_key))
    assert wechat == (TOKEN, APP_ID, AES_KEY)
    printed = str(settings.masked())
    assert TOKEN not in printed and AES_KEY not in printed and APP_ID in printed
    assert {TOKEN, AES_KEY} <= set(secrets_of(settings))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WECHAT_TOKEN": TOKEN, "WECHAT_APP_ID": APP_ID, "WECHAT_AES_KEY": "short"}, "WECHAT_AES_KEY"),
        ({"WECHAT_TOKEN": TOKEN, "WECHAT_AES_KEY": AES_KEY}, "WECHAT_APP_ID"),
        ({"WECOM_TOKEN": TOKEN, "WECOM_CORP_ID": "ww1"}, "missing WECOM_AES_KEY"),
        ({"WECOM_TOKEN": TOKEN, "WECOM_CORP_ID": "ww1", "WECOM_AES_KEY": AES_KEY[:-1]}, "WECOM_AES_KEY"),
    ],
)
def test_bad_wechat_settings_fail_at_load_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        Settings.from_env(env, dotenv=None)
    assert AES_KEY not in str(info.value) and TOKEN not in str(info.value)
