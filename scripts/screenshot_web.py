"""Screenshot the chat page (desktop and a 375-px phone) into docs/, after asking it a few questions.

Runs the real app on 127.0.0.1 and drives Debian's /usr/bin/chromium through Playwright:
    python scripts/screenshot_web.py
Chinese text needs a CJK font on the machine (Debian: apt-get install fonts-wqy-microhei); the page itself
names only system fonts and downloads none.
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fakes.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.http import create_app  # noqa: E402
from bot.service import Assistant  # noqa: E402
from bot.store import Store  # noqa: E402
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


def main() -> None:
    """Start the server, take both screenshots, stop the server."""
    data = tempfile.TemporaryDirectory(prefix="screenshot-web-")  # a throwaway store: no real records
    app = create_app(Assistant(Engine.load(), store=Store.from_settings(Path(data.name), None)), Settings())
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
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)
        data.cleanup()


if __name__ == "__main__":
    main()
