"""The console's doors without a browser: no session → only the login page; passwords, tokens, cookies, CSRF,
the rate limit on logins, the disabled console, and secrets kept out of responses, settings and logs."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from admin_helpers import PASSWORD, SALT, TOKEN, login, posting, record, seed, with_store
from http_helpers import Running, ServerFactory
from itsdangerous.timed import TimestampSigner

from bot.admin.session import COOKIE
from bot.config import AdminCredentials, ConfigError, Settings
from bot.store import Store

SECRET_QUESTION = "只在存储里的秘密问题甲乙丙"
PRIVATE_GETS = (
    "/admin",
    "/admin/api/session",
    "/admin/api/dashboard",
    "/admin/api/review",
    "/admin/api/entries",
    "/admin/api/status",
    "/admin/export.xlsx",
    "/admin/static/admin.js",
    "/admin/static/vendor/chart.umd.min.js",
    "/admin/anything/else",
)
PRIVATE_POSTS = (
    "/admin/api/try",
    "/admin/api/reload",
    "/admin/api/review/accept",
    "/admin/api/review/dismiss",
    "/admin/logout",
)
BROWSER = {"Accept": "text/html,application/xhtml+xml", "Sec-Fetch-Mode": "navigate"}
SCRIPT = {"Accept": "application/json", "Sec-Fetch-Mode": "cors"}


def attempt(server: Running, secret: str) -> httpx.Response:
    """Post a login from the console's own page."""
    return server.client.post("/admin/login", json={"secret": secret}, headers={"Origin": server.url})


def test_without_a_session_a_browser_gets_the_login_page_and_a_script_401(start_admin: ServerFactory) -> None:
    server = start_admin()
    for path in PRIVATE_GETS:
        page = server.client.get(path, headers=BROWSER)
        if path.startswith("/admin/static/"):
            assert page.status_code == 401, path
        else:
            assert page.status_code == 303, path
            assert page.headers["location"] == "/admin/login"
        fetched = server.client.get(path, headers=SCRIPT)
        assert fetched.status_code == 401, path
        assert fetched.json()["error"] == "login_required"
        assert "请先登录" in fetched.json()["message"]
    for path in PRIVATE_POSTS:
        response = server.client.post(path, json={"question": "企业开办要几天"}, headers={"Origin": server.url})
        assert response.status_code == 401, path
    login_page = server.client.get("/admin/login", headers=BROWSER)
    assert login_page.status_code == 200 and "管理后台登录" in login_page.text
    for asset in ("/admin/static/login.js", "/admin/static/style.css"):
        assert server.client.get(asset).status_code == 200


def test_no_data_is_reachable_without_a_session(start_admin: ServerFactory, data_dir: Path) -> None:
    server = start_admin()
    seed(data_dir, [record(SECRET_QUESTION)])
    seen = [server.client.get(p, headers=h) for p in PRIVATE_GETS for h in (BROWSER, SCRIPT)]
    seen += [server.client.post(p, json={}, headers={"Origin": server.url}) for p in PRIVATE_POSTS]
    seen.append(server.client.get("/admin/login"))
    for response in seen:
        assert SECRET_QUESTION not in response.text
        assert "set-cookie" not in response.headers
    csrf = login(server)
    assert csrf
    review = server.client.get("/admin/api/dashboard?days=7").json()
    assert SECRET_QUESTION in [g["question"] for g in review["unanswered"]]  # the same data, with a session


@pytest.mark.parametrize("secret", [PASSWORD, TOKEN])
def test_the_password_or_the_token_opens_a_strict_http_only_session(start_admin: ServerFactory, secret: str) -> None:
    server = start_admin()
    response = server.client.post("/admin/login", json={"secret": secret}, headers={"Origin": server.url})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes and "samesite=strict" in attributes and "path=/admin" in attributes
    assert "max-age=28800" in attributes  # 8 hours
    assert "secure" not in attributes  # plain http here; https requests get Secure
    assert server.client.get("/admin", headers=BROWSER).status_code == 200
    assert server.client.get("/admin/api/status").json()["entries"] > 100
    assert server.client.get("/admin/login", headers=BROWSER).status_code == 303  # already in


def test_a_login_must_come_from_this_site(start_admin: ServerFactory) -> None:
    server = start_admin()
    for headers in ({}, {"Origin": "https://evil.example"}):
        response = server.client.post("/admin/login", json={"secret": PASSWORD}, headers=headers)
        assert response.status_code == 403
        assert "set-cookie" not in response.headers


def test_wrong_secrets_are_refused_and_then_rate_limited(start_admin: ServerFactory) -> None:
    server = start_admin()
    for _ in range(5):
        response = attempt(server, "wrong-password-123")
        assert response.status_code == 401
        assert response.json()["message"] == "密码或令牌不正确。"
        assert "set-cookie" not in response.headers
    limited = attempt(server, PASSWORD)
    assert limited.status_code == 429  # even the right password: guessing stops here
    assert "登录尝试过于频繁" in limited.json()["message"]
    assert int(limited.headers["retry-after"]) >= 1
    assert "set-cookie" not in limited.headers


def test_a_tampered_cookie_is_refused(start_admin: ServerFactory) -> None:
    server = start_admin()
    login(server)
    value = server.client.cookies[COOKIE]
    payload, _, signature = value.rpartition(".")
    for forged in (payload + "." + signature[::-1], "x" + value, value[:-2], "e30.abc.def"):
        server.client.cookies.clear()
        server.client.cookies.set(COOKIE, forged, path="/admin")
        assert server.client.get("/admin/api/status").status_code == 401, forged
    other = AdminCredentials.create(password="another-password-456", token=None, salt=SALT)
    assert other.session_key != server.app.state.api.settings.admin_credentials().session_key


def test_an_expired_cookie_is_refused(start_admin: ServerFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    server = start_admin()
    nine_hours_ago = int(time.time()) - 9 * 3600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: nine_hours_ago)
    login(server)  # the cookie is signed as if issued nine hours ago
    monkeypatch.undo()
    assert server.client.get("/admin/api/status").status_code == 401


def test_logout_ends_the_session_in_the_browser(start_admin: ServerFactory) -> None:
    server = start_admin()
    csrf = login(server)
    response = server.client.post("/admin/logout", json={}, headers=posting(server, csrf))
    assert response.status_code == 200
    assert re.search(rf"{COOKIE}=(\"\")?;", response.headers["set-cookie"])
    assert server.client.get("/admin/api/status").status_code == 401


def test_a_post_without_the_csrf_token_or_from_elsewhere_changes_nothing(
    start_admin: ServerFactory, data_dir: Path
) -> None:
    server = start_admin()
    csrf = login(server)
    body = {"kind": "group", "question": "夜市摆摊要办啥"}
    refused = [
        {"Origin": server.url},
        {"Origin": server.url, "X-CSRF-Token": "not-the-token"},
        {"Origin": server.url, "X-CSRF-Token": csrf[:-1]},
        {"X-CSRF-Token": csrf},
        {"Origin": "https://evil.example", "X-CSRF-Token": csrf},
    ]
    for headers in refused:
        response = server.client.post("/admin/api/review/dismiss", json=body, headers=headers)
        assert response.status_code == 403, headers
        reload = server.client.post("/admin/api/reload", json={}, headers=headers)
        assert reload.status_code == 403, headers
    assert with_store(data_dir, Store.review_decisions) == []
    accepted = server.client.post("/admin/api/review/dismiss", json=body, headers=posting(server, csrf))
    assert accepted.status_code == 200
    assert [d.question for d in with_store(data_dir, Store.review_decisions)] == ["夜市摆摊要办啥"]


def test_without_a_password_or_token_the_console_is_disabled(start_admin: ServerFactory, data_dir: Path) -> None:
    server = start_admin(admin_password=None, admin_token=None)
    seed(data_dir, [record(SECRET_QUESTION)])
    note = server.client.get("/admin", headers=BROWSER)
    assert note.status_code == 200
    assert "管理后台未启用" in note.text and "ADMIN_PASSWORD" in note.text and "ADMIN_TOKEN" in note.text
    assert "script-src 'self'" in note.headers["content-security-policy"]
    for path in (*PRIVATE_GETS[1:], "/admin/login"):
        response = server.client.get(path)
        assert response.status_code == 404, path
        assert SECRET_QUESTION not in response.text
    login_attempt = server.client.post("/admin/login", json={"secret": PASSWORD}, headers={"Origin": server.url})
    assert login_attempt.status_code == 404 and "set-cookie" not in login_attempt.headers


def test_secrets_stay_out_of_responses_settings_and_logs(
    start_admin: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = Settings.from_env(
        {"ADMIN_PASSWORD": PASSWORD, "ADMIN_TOKEN": TOKEN, "USER_HASH_SALT": SALT}, dotenv=None
    )
    admin = settings.admin_credentials()
    assert admin is not None and admin.matches(PASSWORD) and admin.matches(TOKEN)
    assert not admin.matches("wrong") and not admin.matches(PASSWORD + " ")
    shown = f"{settings!r} {settings.masked()}"
    assert PASSWORD not in shown and TOKEN not in shown
    assert settings.masked()["admin_password"] == settings.masked()["admin_token"] == "<set>"
    server = start_admin(admin_password=settings.admin_password, admin_token=settings.admin_token)
    responses: list[httpx.Response] = []
    responses.append(attempt(server, "wrong-one-here"))
    responses.append(attempt(server, PASSWORD))
    csrf = responses[-1].json()["csrf"]
    for path in ("/admin", "/admin/api/session", "/admin/api/status", "/admin/api/dashboard", "/admin/api/review"):
        responses.append(server.client.get(path))
    responses.append(server.client.post("/admin/api/try", json={"question": PASSWORD}, headers=posting(server, csrf)))
    for response in responses:
        text = response.text.replace(PASSWORD, "") if response.request.url.path == "/admin/api/try" else response.text
        assert PASSWORD not in text and TOKEN not in text
        assert PASSWORD not in str(response.headers) and TOKEN not in str(response.headers)
    assert "a login attempt failed" in caplog.text and "logged in" in caplog.text
    assert PASSWORD not in caplog.text and TOKEN not in caplog.text


def _bytes_of(kept: object) -> list[bytes]:
    """Return every bytes value a kept secret holds (the settings keep the admin password only as these)."""
    return [getattr(kept, name) for name in getattr(kept, "__slots__", ()) if isinstance(getattr(kept, name), bytes)]


def test_admin_settings_are_checked_and_replicas_share_the_session_key() -> None:
    with pytest.raises(ConfigError, match="ADMIN_PASSWORD is too short"):
        Settings.from_env({"ADMIN_PASSWORD": "short"}, dotenv=None)
    assert Settings.from_env({}, dotenv=None).admin_credentials() is None
    env = {"ADMIN_PASSWORD": PASSWORD, "USER_HASH_SALT": SALT}
    one, two = (Settings.from_env(env, dotenv=None).admin_credentials() for _ in range(2))
    assert one is not None and two is not None
    assert one.session_key == two.session_key  # any replica accepts any replica's cookie
    assert one.password is not None and two.password is not None
    assert one.password.scrypt_hash != two.password.scrypt_hash  # each salts its scrypt hash at random
    kept = Settings.from_env(env, dotenv=None)
    held = [getattr(kept, name) for name in Settings.model_fields]
    assert PASSWORD not in repr(held) and not any(PASSWORD.encode() in bytes(v) for v in _bytes_of(kept.admin_password))
    assert kept.admin_password is not None and kept.admin_password.matches(PASSWORD.encode())
    salted = Settings.from_env({**env, "USER_HASH_SALT": "another-salt-0123456"}, dotenv=None).admin_credentials()
    assert salted is not None and salted.session_key != one.session_key
    assert Settings.from_env({**env, "ADMIN_SESSION_HOURS": "2"}, dotenv=None).admin_session_hours == 2


def test_python_m_bot_config_never_prints_the_admin_secrets(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ADMIN_")}
    environ |= {"ADMIN_PASSWORD": PASSWORD, "ADMIN_TOKEN": TOKEN, "DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "config"], capture_output=True, env=environ, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["admin_password"] == shown["admin_token"] == "<set>" and shown["admin_session_hours"] == 8
    assert PASSWORD.encode() not in done.stdout + done.stderr and TOKEN.encode() not in done.stdout + done.stderr
