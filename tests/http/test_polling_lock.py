"""Polling runs in one process at a time: a second `serve` in polling mode refuses to start, clearly."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import test_serve
from test_serve import TOKEN, FakeTelegram, _free_port, clean_env

# The subprocess fixtures of test_serve, shared here.
fake_telegram = test_serve.fake_telegram
start_serve = test_serve.start_serve

SALT = "replica-salt-0123456789"
SECRET = "replica-webhook-secret-0123"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_second_polling_process_refuses_to_start(
    start_serve: Any, fake_telegram: FakeTelegram, tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": fake_telegram.base_url, "DATA_DIR": str(tmp_path / "d")}
    if backend == "postgresql":
        env.update(DATABASE_URL=request.getfixturevalue("postgres_url"), USER_HASH_SALT=SALT, WEBHOOK_SECRET=SECRET)
    first = start_serve(**env)
    deadline = time.monotonic() + 10
    while not fake_telegram.called("getUpdates"):
        assert time.monotonic() < deadline, "the first process never polled"
        time.sleep(0.05)
    second = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env=clean_env(PORT=str(_free_port()), **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 1
    assert "Telegram polling is already running in another process" in second.stderr
    assert TOKEN not in second.stderr
    assert first.process.poll() is None  # the first one polls on
    assert first.stop() == 0
    third = start_serve(**env)  # the lock went with the first process
    assert third.stop() == 0
