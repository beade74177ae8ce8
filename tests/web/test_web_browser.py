"""The chat page in headless Chromium against the real server: ask, chips, votes, phone width, escaping, keys."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from http_helpers import Running, serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

ANSWER = "section.msg.bot:not(.pending)"


def ask(page: Any, question: str) -> Any:
    """Type a question, send it with Enter and return the locator of its (finished) answer."""
    before = page.locator(ANSWER).count()
    page.fill("#question", question)
    page.press("#question", "Enter")
    answer = page.locator(ANSWER).nth(before)
    answer.wait_for()
    return answer


def test_question_shows_the_figure_in_bold_and_the_source(site: Running, page: Any) -> None:
    page.goto(site.url)
    answer = ask(page, "企业开办要几天")
    assert answer.locator("strong", has_text="0.5个工作日").count() == 1
    assert answer.locator(".source").inner_text().startswith("来源：")
    assert "内蒙古日报" in answer.locator(".source").inner_text()
    related = answer.get_by_role("group", name="相关问题").get_by_role("button")
    assert related.count() >= 1
    assert answer.get_by_role("group", name="这个回答有帮助吗").get_by_role("button").count() == 2
    assert page.locator("#question").input_value() == ""


def test_suggestion_chip_answers_that_entry(site: Running, page: Any) -> None:
    page.goto(site.url)
    answer = ask(page, "审批")
    chips = answer.get_by_role("group", name="您是想问").get_by_role("button")
    assert chips.count() >= 2
    assert "12345" in answer.locator(".footer").inner_text()
    chosen = chips.first.inner_text()
    chips.first.click()
    picked = page.locator(ANSWER).nth(2)
    picked.wait_for()
    assert page.locator("section.msg.user").last.inner_text() == chosen
    assert picked.locator("strong").count() >= 1
    assert picked.locator(".source").inner_text().startswith("来源：")


def test_nothing_matches_shows_the_12345_guidance(site: Running, page: Any) -> None:
    page.goto(site.url)
    answer = ask(page, "今天天气怎么样")
    assert answer.get_attribute("data-outcome") == "fallback"
    assert "12345" in answer.locator(".reply").inner_text()


def stored_votes(data: Path) -> list[tuple[str, str, str]]:
    """Return (record id, vote, channel) of every vote in the server's SQLite store."""
    with closing(sqlite3.connect(data / "assistant.db")) as db:
        return [tuple(row) for row in db.execute("SELECT question_id, vote, channel FROM feedback")]


def test_votes_are_stored_for_the_answer(site: Running, site_data: Path, page: Any) -> None:
    replies: list[dict[str, Any]] = []
    page.on("response", lambda r: replies.append(r.json()) if r.url.endswith("/web/ask") else None)
    page.goto(site.url)
    answer = ask(page, "企业开办要几天")
    down = answer.get_by_role("button", name="没有帮助")
    down.click()
    answer.get_by_text("谢谢您的反馈！").wait_for()
    assert down.get_attribute("aria-pressed") == "true"
    assert answer.get_by_role("button", name="有帮助", exact=True).is_disabled()
    record_id = replies[0]["id"]
    assert (record_id, "down", "web") in stored_votes(site_data)


def test_reply_without_an_id_has_no_vote_buttons(site: Running, page: Any) -> None:
    def without_id(route: Any) -> None:
        real = route.fetch()
        data = real.json()
        del data["id"]
        route.fulfill(response=real, body=json.dumps(data, ensure_ascii=False))

    page.route("**/web/ask", without_id)
    page.goto(site.url)
    answer = ask(page, "企业开办要几天")
    assert answer.locator("strong", has_text="0.5个工作日").count() == 1
    assert answer.locator(".vote").count() == 0


def test_vote_that_fails_says_so_and_can_be_retried(site: Running, page: Any, console_errors: list[str]) -> None:
    page.route("**/web/feedback", lambda route: route.fulfill(status=404, body='{"error": "not_found"}'))
    page.goto(site.url)
    answer = ask(page, "企业开办要几天")
    answer.get_by_role("button", name="有帮助", exact=True).click()
    answer.get_by_text("反馈没有发送成功，请稍后再试。").wait_for()
    assert answer.get_by_role("button", name="有帮助", exact=True).is_enabled()
    assert console_errors == ["Failed to load resource: the server responded with a status of 404 (Not Found)"]
    console_errors.clear()


def test_phone_width_fits_without_horizontal_scroll(site: Running, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(site.url)
        answer = ask(page, "企业开办要几天")
        answer.locator(".source").wait_for()
        ask(page, "审批")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375
        box = page.locator("#send").bounding_box()
        assert box is not None and box["x"] + box["width"] <= 375 and box["y"] + box["height"] <= 667
    finally:
        context.close()


def test_answers_arriving_do_not_move_the_input(site: Running, page: Any) -> None:
    page.goto(site.url)
    before = page.locator("#question").bounding_box()
    for question in ("企业开办要几天", "审批", "12345热线是干什么的", "今天天气怎么样"):
        ask(page, question)
    assert page.locator("#question").bounding_box() == before
    last = page.locator(ANSWER).last.bounding_box()
    log = page.locator("#log").bounding_box()
    assert last is not None and log is not None and last["y"] + last["height"] <= log["y"] + log["height"] + 1


def test_html_in_a_question_is_shown_as_text(site: Running, page: Any) -> None:
    page.goto(site.url)
    question = "<img src=x onerror=\"document.title='pwned'\"><b>企业开办</b>要几天"
    ask(page, question)
    assert page.locator("section.msg.user").last.inner_text() == question
    assert page.locator("#log img, #log b").count() == 0
    assert page.title() != "pwned"


def test_keyboard_alone_can_ask_and_follow_a_chip(site: Running, page: Any) -> None:
    page.goto(site.url)
    for _ in range(10):  # Tab from the top of the page until the question box has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "question":
            break
    assert page.evaluate("document.activeElement.id") == "question"
    page.keyboard.type("企业开办要几天")
    page.keyboard.press("Enter")
    answer = page.locator(ANSWER).nth(1)
    answer.wait_for()
    assert answer.locator("strong", has_text="0.5个工作日").count() == 1
    for _ in range(4):  # from the box back into the answer: past 👎 and 👍 to the last related question
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.className") == "chip":
            break
    assert page.evaluate("document.activeElement.className") == "chip"
    chip_text = page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    page.locator(ANSWER).nth(2).wait_for()
    assert page.locator("section.msg.user").last.inner_text() == chip_text


def test_log_is_announced_to_screen_readers(site: Running, page: Any) -> None:
    page.goto(site.url)
    log = page.get_by_role("log", name="对话记录")
    assert log.get_attribute("aria-live") == "polite"
    assert page.get_by_label("您的问题").count() == 1
    assert page.get_by_role("button", name="发送").count() == 1


def test_tab_keeps_one_conversation_id(site: Running, page: Any) -> None:
    bodies: list[dict[str, Any]] = []
    page.on("request", lambda r: bodies.append(json.loads(r.post_data)) if r.url.endswith("/web/ask") else None)
    page.goto(site.url)
    ask(page, "企业开办要几天")
    page.reload()
    ask(page, "审批")
    ids = {body.get("chat_id") for body in bodies}
    assert len(bodies) == 2 and len(ids) == 1 and None not in ids


@pytest.fixture
def portal() -> Iterator[tuple[str, dict[str, str]]]:
    """Return a portal site on another port whose page includes the widget of the server in `target`."""
    target: dict[str, str] = {}

    async def home(request: Request) -> Response:
        return HTMLResponse(
            f'<!doctype html><html lang="zh-CN"><head><link rel="icon" href="data:,"></head><body><h1>首府门户</h1>'
            f'<script src="{target["url"]}/widget.js" defer></script></body></html>'
        )

    with serve(Starlette(routes=[Route("/", home)])) as url:
        yield url, target


def test_widget_opens_the_chat_on_an_allowed_portal(
    portal: tuple[str, dict[str, str]], start_server: Any, page: Any
) -> None:
    portal_url, target = portal
    server = start_server(web_allowed_origins=(portal_url,))
    target["url"] = server.url
    page.goto(portal_url)
    button = page.get_by_role("button", name="在线咨询", exact=True)
    assert button.get_attribute("aria-expanded") == "false"
    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    chat = page.frame_locator("iframe[title^='在线咨询']")
    chat.locator("#question").fill("企业开办要几天")
    chat.locator("#question").press("Enter")
    chat.locator("strong", has_text="0.5个工作日").wait_for()
    page.keyboard.press("Escape")
    assert button.get_attribute("aria-expanded") == "false"


def test_widget_page_is_refused_by_a_portal_not_allowed(
    portal: tuple[str, dict[str, str]], start_server: Any, browser: Any
) -> None:
    portal_url, target = portal
    server = start_server(web_allowed_origins=("https://www.huhhot.gov.cn",))
    target["url"] = server.url
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(portal_url)
        with page.expect_console_message(lambda msg: "frame-ancestors" in msg.text) as refusal:
            page.get_by_role("button", name="在线咨询", exact=True).click()
        assert f"Framing '{server.url}/'" in refusal.value.text and "has been blocked" in refusal.value.text
        frame = page.locator("iframe[title^='在线咨询']").element_handle().content_frame()
        assert frame is not None and frame.locator("#question").count() == 0
    finally:
        context.close()
