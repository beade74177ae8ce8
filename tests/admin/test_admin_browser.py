"""The console in headless Chromium: log in, the chart drawn, an unanswered group accepted into an entry and
then answered in the test view (and through the API); without a session only the login page shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from admin_helpers import PASSWORD, record, seed
from http_helpers import ServerFactory

from intents import Engine

UNANSWERED = "想在青城开个奶茶铺子快不快"
TARGET = "business_registration_time"

CANVAS_INKED = """(canvas) => {
  const context = canvas.getContext("2d");
  const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
  let inked = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) inked += 1;
  return inked;
}"""


def log_in(page: Any, url: str) -> None:
    """Open the console, get sent to the login page, log in, wait until the console has loaded."""
    page.goto(f"{url}/admin")
    assert page.url.endswith("/admin/login")
    page.get_by_label("管理密码或令牌").fill(PASSWORD)
    page.get_by_label("管理密码或令牌").press("Enter")
    page.wait_for_url(f"{url}/admin")
    page.locator("body[data-ready='true']").wait_for()


def test_without_a_session_the_console_shows_only_the_login(page: Any, start_admin: ServerFactory) -> None:
    server = start_admin()
    page.goto(f"{server.url}/admin")
    assert page.url == f"{server.url}/admin/login"
    assert page.get_by_role("heading", level=1).inner_text() == "管理后台登录"
    assert page.locator("#overview, #review, #try, canvas").count() == 0
    page.goto(f"{server.url}/admin/api/dashboard")
    assert page.url == f"{server.url}/admin/login"


def test_log_in_see_the_chart_accept_a_group_and_see_it_answered(
    page: Any, start_admin: ServerFactory, data_dir: Path, knowledge: Path
) -> None:
    seed(
        data_dir,
        [
            record("企业开办要几天", outcome="answer", intent=TARGET, score=90.0, days_ago=2),
            record("企业开办要几天", outcome="answer", intent=TARGET, score=90.0, days_ago=1),
            record(UNANSWERED, days_ago=1),
            record(UNANSWERED),
        ],
    )
    server = start_admin(engine_=Engine.load(data_dir=knowledge))
    log_in(page, server.url)

    canvas = page.locator("#daily-chart")
    assert page.evaluate("() => Boolean(window.Chart && Chart.getChart(document.getElementById('daily-chart')))")
    assert canvas.evaluate(CANVAS_INKED) > 100  # bars and axes drawn
    assert page.locator("#card-questions").inner_text() == "4"
    assert UNANSWERED in page.locator("#unanswered").inner_text()

    item = page.locator("#review-list li.item").filter(has_text=UNANSWERED)
    assert "没能回答的问题组" in item.inner_text()
    item.get_by_label("加为示例问题的条目").select_option(TARGET)
    item.get_by_role("button", name="接受").click()
    page.locator("#review-status", has_text="已加入条目").wait_for()
    assert page.locator("#review-list li.item").filter(has_text=UNANSWERED).count() == 0

    page.get_by_label("测试问题").fill(UNANSWERED)
    page.get_by_label("测试问题").press("Enter")
    page.locator("#try-result[data-outcome='answer']").wait_for()
    assert "直接回答" in page.locator("#try-outcome").inner_text()
    assert "0.5个工作日" in page.locator("#try-reply").inner_text()
    assert page.locator("#try-candidates tbody tr").first.inner_text().startswith("企业开办")

    answer = server.client.post("/v1/ask", json={"question": UNANSWERED}).json()
    assert answer["outcome"] == "answer" and answer["intent"] == TARGET


def test_the_console_fits_a_phone(browser: Any, start_admin: ServerFactory) -> None:
    server = start_admin()
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, server.url)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
        page.keyboard.press("Tab")  # the first stop is the skip link, for keyboard users
        assert page.evaluate("() => document.activeElement.textContent") == "跳到主要内容"
        page.get_by_label("测试问题").fill("企业开办要几天")
        page.get_by_label("测试问题").press("Enter")
        page.locator("#try-result[data-outcome='answer']").wait_for()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 375  # the wide table scrolls alone
    finally:
        context.close()
