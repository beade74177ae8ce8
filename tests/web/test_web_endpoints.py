"""The chat page's server side without a browser: headers, assets, the origin rule, rate limit, bad bodies."""

from __future__ import annotations

import re
from typing import Any

import pytest
from http_helpers import ServerFactory

from bot.config import ConfigError, Settings
from bot.web.routes import WEB_PATHS

EMBEDDER = "https://www.huhhot.gov.cn"


def own(url: str) -> dict[str, str]:
    """Return the Origin header the server's own page sends."""
    return {"Origin": url}


def test_page_is_served_in_chinese_with_a_strict_policy(start_server: ServerFactory) -> None:
    server = start_server()
    response = server.client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in response.text and "发送" in response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'self'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_every_asset_comes_from_the_server_itself(start_server: ServerFactory) -> None:
    server = start_server()
    page = server.client.get("/").text
    assert "<script>" not in page and " style=" not in page  # nothing inline the CSP would have to allow
    linked = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert linked, "the page links its script and style sheet"
    for path in linked:
        assert path.startswith("/"), f"{path} is not served by this server"
        response = server.client.get(path)
        assert response.status_code == 200, path
        text = response.text.replace('xmlns="http://www.w3.org/2000/svg"', "")  # a namespace name, not a fetch
        assert "http://" not in text and "https://" not in text, f"{path} reaches out"
    assert server.client.get("/web/static/../config.py").status_code == 404


def test_widget_script_is_javascript_anyone_may_include(start_server: ServerFactory) -> None:
    server = start_server()
    response = server.client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "在线咨询" in response.text


def test_allowed_sites_may_frame_the_page(start_server: ServerFactory) -> None:
    server = start_server(web_allowed_origins=(EMBEDDER,))
    csp = server.client.get("/").headers["content-security-policy"]
    assert f"frame-ancestors 'self' {EMBEDDER}" in csp


def test_own_page_gets_the_answer_with_bold_figures_and_source(start_server: ServerFactory) -> None:
    server = start_server()
    response = server.client.post("/web/ask", json={"question": "企业开办要几天"}, headers=own(server.url))
    assert response.status_code == 200
    data = response.json()
    assert data["outcome"] == "answer"
    assert {"text": "0.5个工作日", "bold": True} in data["reply"]
    assert "".join(run["text"] for run in data["reply"]).startswith("据2021年报道")
    assert data["source"].startswith("来源：")
    assert data["related"] and all(item["question"] for item in data["related"])
    assert data["id"]  # the record the page's 👍/👎 refer to
    assert "access-control-allow-origin" not in response.headers


def test_the_tabs_conversation_id_carries_a_follow_up_and_only_that_tab(start_server: ServerFactory) -> None:
    server = start_server()

    def ask(question: str, tab: str) -> dict[str, Any]:
        body = {"question": question, "chat_id": tab}
        response = server.client.post("/web/ask", json=body, headers=own(server.url))
        assert response.status_code == 200
        data: dict[str, Any] = response.json()
        return data

    assert ask("企业开办要几天", "tab-a")["outcome"] == "answer"
    follow = ask("旗县呢", "tab-a")  # no question on its own: read against the tab's last answer
    assert follow["outcome"] == "answer" and "1.5个工作日" in "".join(run["text"] for run in follow["reply"])
    assert ask("旗县呢", "tab-b")["outcome"] != "answer"  # another tab has no such context


def test_unsure_question_gets_chips_that_pick_an_entry(start_server: ServerFactory) -> None:
    server = start_server()
    data = server.client.post("/web/ask", json={"question": "审批"}, headers=own(server.url)).json()
    assert data["outcome"] == "suggest" and len(data["suggestions"]) >= 2
    assert "12345" in data["footer"]
    chip = data["suggestions"][0]
    picked = server.client.post("/web/pick", json={"intent": chip["intent"]}, headers=own(server.url)).json()
    assert picked["outcome"] == "answer" and picked["source"]
    assert any(run["bold"] for run in picked["reply"])


def test_nothing_matches_gives_the_12345_guidance(start_server: ServerFactory) -> None:
    server = start_server()
    data = server.client.post("/web/ask", json={"question": "今天天气怎么样"}, headers=own(server.url)).json()
    assert data["outcome"] == "fallback"
    assert "12345" in "".join(run["text"] for run in data["reply"])


@pytest.mark.parametrize("headers", [{}, {"Origin": "https://evil.example"}, {"Origin": "null"}])
def test_other_origins_are_refused(start_server: ServerFactory, headers: dict[str, str]) -> None:
    server = start_server(web_allowed_origins=(EMBEDDER,))
    for path, body in (("/web/ask", {"question": "企业开办要几天"}), ("/web/pick", {"intent": "x"})):
        response = server.client.post(path, json=body, headers=headers)
        assert response.status_code == 403
        assert response.json()["error"] == "origin_not_allowed"
        assert "access-control-allow-origin" not in response.headers


def test_allowed_site_gets_cors_and_preflight(start_server: ServerFactory) -> None:
    server = start_server(web_allowed_origins=(EMBEDDER,))
    preflight = server.client.options(
        "/web/ask",
        headers={
            "Origin": EMBEDDER,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == EMBEDDER
    assert "content-type" in preflight.headers["access-control-allow-headers"].lower()
    response = server.client.post("/web/ask", json={"question": "企业开办要几天"}, headers={"Origin": EMBEDDER})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == EMBEDDER
    refused = server.client.options("/web/ask", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403


def test_allowed_site_can_read_the_refusals_too(start_server: ServerFactory) -> None:
    server = start_server(web_allowed_origins=(EMBEDDER,))
    headers = {"Origin": EMBEDDER, "Content-Type": "application/json"}
    for path, body, status in (("/web/ask", b"{", 400), ("/web/pick", b'{"intent": "no_such_entry"}', 404)):
        response = server.client.post(path, content=body, headers=headers)
        assert response.status_code == status
        assert response.headers["access-control-allow-origin"] == EMBEDDER
        assert response.headers["vary"] == "Origin"


def test_page_shares_the_api_rate_limit_per_address(start_server: ServerFactory) -> None:
    server = start_server(rate_limit_per_minute=2)
    assert server.client.post("/v1/ask", json={"question": "企业开办要几天"}).status_code == 200
    web = server.client.post("/web/ask", json={"question": "企业开办要几天"}, headers=own(server.url))
    assert web.status_code == 200
    response = server.client.post("/web/pick", json={"intent": "x"}, headers=own(server.url))
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    assert "秒后再试" in response.json()["message"]


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        ("/web/ask", b"{not json", 400, "invalid_json"),
        ("/web/ask", b"[]", 400, "invalid_json"),
        ("/web/ask", b"{}", 400, "missing_question"),
        ("/web/ask", b'{"question": 12}', 400, "invalid_question"),
        ("/web/ask", '{"question": "企业开办要几天"}'.encode("utf-16"), 400, "invalid_json"),
        ("/web/ask", b'{"question": "' + b"a" * 20_000 + b'"}', 413, "body_too_large"),
        ("/web/pick", b"{}", 400, "invalid_intent"),
        ("/web/pick", b'{"intent": ["a"]}', 400, "invalid_intent"),
        ("/web/pick", b'{"intent": "a", "chat_id": {}}', 400, "invalid_chat_id"),
        ("/web/pick", b'{"intent": "no_such_entry"}', 404, "not_found"),
    ],
)
def test_bad_bodies_get_a_json_error(
    start_server: ServerFactory, path: str, body: bytes, status: int, error: str
) -> None:
    server = start_server()
    response = server.client.post(path, content=body, headers={**own(server.url), "Content-Type": "application/json"})
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["message"]


def test_html_in_a_question_comes_back_as_data(start_server: ServerFactory) -> None:
    server = start_server()
    question = "<script>alert(1)</script>企业开办要几天"
    response = server.client.post("/web/ask", json={"question": question}, headers=own(server.url))
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.json()["question"] == question


def test_allowed_origins_setting_is_checked() -> None:
    settings = Settings.from_env({"WEB_ALLOWED_ORIGINS": "https://www.huhhot.gov.cn/, http://127.0.0.1:9000"}, None)
    assert settings.web_allowed_origins == ("https://www.huhhot.gov.cn", "http://127.0.0.1:9000")
    for bad in ("www.huhhot.gov.cn", "https://www.huhhot.gov.cn/chat", "ftp://x.cn", "https://u:p@x.cn"):
        with pytest.raises(ConfigError, match="WEB_ALLOWED_ORIGINS"):
            Settings.from_env({"WEB_ALLOWED_ORIGINS": bad}, None)


def test_page_paths_are_the_ones_served(start_server: ServerFactory) -> None:
    server = start_server()
    served = {getattr(route, "path", "") for route in server.app.routes}
    assert served >= WEB_PATHS


def test_page_votes_on_its_reply(start_server: ServerFactory) -> None:
    server = start_server()
    reply = server.client.post("/web/ask", json={"question": "企业开办要几天"}, headers=own(server.url)).json()
    vote = {"id": reply["id"], "vote": "up", "chat_id": "web-tab-1"}
    response = server.client.post("/web/feedback", json=vote, headers=own(server.url))
    assert response.status_code == 200 and response.json() == {"id": reply["id"], "vote": "up"}
    unknown = server.client.post("/web/feedback", json={**vote, "id": "nope"}, headers=own(server.url))
    assert unknown.status_code == 404
    bad = server.client.post("/web/feedback", json={**vote, "vote": "maybe"}, headers=own(server.url))
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_feedback"
    assert server.client.post("/web/feedback", json=vote).status_code == 403
