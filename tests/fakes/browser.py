"""How the tests and scripts/screenshot_web.py start Debian's Chromium (never `playwright install`)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""No network of its own, no sandbox (root in CI), no GPU."""


@contextmanager
def chromium() -> Iterator[Any]:
    """Yield headless Chromium driven by Playwright's sync API, or skip the test when no browser can be had.

    For module-scoped fixtures: Playwright's sync API keeps an event loop running in this thread while it is
    open, which would break every asyncio test after it; it closes when the module's browser tests end."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium chromium-driver)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def checked_page(browser: Any, errors: list[str]) -> Iterator[Any]:
    """Yield a fresh desktop-sized page (zh-CN, 10 s timeouts) whose errors land in `errors`; after the test,
    any left there fails it (a test that provokes one on purpose removes it)."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"the page logged errors: {errors}"
