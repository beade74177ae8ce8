"""Screenshot the chat page (desktop and a 375-px phone) into docs/, after asking it a few questions, and the
admin console's dashboard (docs/admin-dashboard.png) on a throwaway store of made-up records.

Runs the real app on 127.0.0.1 and drives Debian's /usr/bin/chromium through Playwright:
    python scripts/screenshot_web.py
Chinese text needs a CJK font on the machine (Debian: apt-get install fonts-wqy-microhei); the page itself
names only system fonts and downloads none.
"""

from __future__ import annotations

import asyncio
import random
import socket
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fakes.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.http import create_app  # noqa: E402
from bot.service import Assistant  # noqa: E402
from bot.store import Feedback, QuestionRecord, ScoredIntent, Store, Vote, utcnow  # noqa: E402
from intents import Engine  # noqa: E402

QUESTIONS = ("企业开办要几天", "审批")
SHOTS = (
    ("web-desktop.png", {"width": 1024, "height": 768}, False),
    ("web-phone.png", {"width": 375, "height": 740}, True),
)


def converse(page: Page, url: str) -> None:
    """Open the page and ask the sample questions, waiting for each answer."""
    page.goto(url)
    for number, question in enumerate(QUESTIONS, 1):
        page.fill("#question", question)
        page.press("#question", "Enter")
        page.locator("section.msg.bot:not(.pending)").nth(number).wait_for()


ADMIN_SECRET = "screenshot-only-" + uuid.uuid4().hex
ADMIN_SHOT = ("admin-dashboard.png", {"width": 1280, "height": 1000})
MADE_UP = (  # (question, outcome, entry): what the dashboard's records ask
    ("企业开办要几天", "answer", "business_registration_time"),
    ("12345热线是干什么的", "answer", "hotline_12345"),
    ("办不成事去哪反映", "answer", "hotline_cannot_do_window"),
    ("审批", "suggest", None),
    ("想在青城开个奶茶铺子快不快", "fallback", None),
    ("夜市摆摊要办啥", "fallback", None),
)


async def seed(data_dir: Path, engine: Engine) -> None:
    """Fill a throwaway store with two weeks of made-up records and votes (a fixed random seed)."""
    chance = random.Random(9)
    store = Store.from_settings(data_dir, None)
    await store.open()
    known = set(engine.kb.entries)
    now = utcnow()
    try:
        for day in range(14):
            for _ in range(chance.randint(8, 30)):
                question, outcome, entry = chance.choice(MADE_UP)
                record = QuestionRecord(
                    id=uuid.uuid4().hex,
                    asked_at=now - timedelta(days=day, minutes=chance.randint(0, 600)),
                    channel=chance.choice(("web", "telegram", "api")),
                    chat_type=None,
                    conversation=None,
                    user_hash=None,
                    question=question,
                    outcome=outcome,
                    intent=entry if entry in known else None,
                    score=90.0 if outcome == "answer" else 20.0,
                    candidates=(ScoredIntent(entry, 90.0),) if entry in known and entry else (),
                    kb_version="screenshot",
                    reply_ms=0.3,
                    via="ask",
                )
                await store.record_question(record)
                if outcome == "answer" and chance.random() < 0.3:
                    vote = Vote.UP if chance.random() < 0.8 else Vote.DOWN
                    await store.put_feedback(Feedback(record.id, uuid.uuid4().hex, vote, None, "web", now))
    finally:
        await store.close()


def shoot_admin(browser: Browser, url: str) -> None:
    """Log in to the admin console and screenshot its dashboard."""
    name, viewport = ADMIN_SHOT
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{url}/admin")
    page.fill("#secret", ADMIN_SECRET)
    page.press("#secret", "Enter")
    page.locator("body[data-ready='true']").wait_for()
    page.screenshot(path=str(ROOT / "docs" / name))
    context.close()
    print(f"docs/{name}")


def main() -> None:
    """Start the server, take the screenshots, stop the server."""
    data = tempfile.TemporaryDirectory(prefix="screenshot-web-")  # a throwaway store: no real records
    engine = Engine.load()
    asyncio.run(seed(Path(data.name), engine))
    settings = Settings(admin_token=ADMIN_SECRET)
    app = create_app(Assistant(engine, store=Store.from_settings(Path(data.name), None)), settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for name, viewport, mobile in SHOTS:
                context = browser.new_context(viewport=viewport, is_mobile=mobile, locale="zh-CN")
                page = context.new_page()
                converse(page, url)
                page.screenshot(path=str(ROOT / "docs" / name))
                context.close()
                print(f"docs/{name}")
            shoot_admin(browser, url)
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)
        data.cleanup()


if __name__ == "__main__":
    main()
