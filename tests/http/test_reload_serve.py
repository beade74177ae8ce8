"""`python -m bot kb reload` asks a running `serve` (SIGHUP through its pid file) to reload; an invalid knowledge
base is refused before the server is disturbed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import test_serve
from fakes.knowledge import TOPIC, edit_topic
from test_serve import clean_env

from knowledge.loader import DATA_DIR

start_serve = test_serve.start_serve
QUESTION = "企业开办要几天"
OLD, NEW = "已压缩至0.5个工作日", "已压缩至0.5个工作日（测试改写）"


def _wait_for_reload(server: Any, version: str, failure: str) -> None:
    """Wait until /healthz reports a knowledge base version other than `version` (30 s at most)."""
    deadline = time.monotonic() + 30
    while server.client.get("/healthz").json()["knowledge_base"]["version"] == version:
        assert time.monotonic() < deadline, failure
        time.sleep(0.05)


def test_kb_reload_asks_the_running_server_and_refuses_an_invalid_base(
    knowledge: Path, tmp_path: Path, start_serve: Any
) -> None:
    data = tmp_path / "data"
    env = {"KNOWLEDGE_DIR": str(knowledge), "DATA_DIR": str(data)}
    server = start_serve(**env)
    version = server.client.get("/healthz").json()["knowledge_base"]["version"]
    assert OLD in server.client.post("/v1/ask", json={"question": QUESTION}).json()["answer"]
    command = [sys.executable, "-m", "bot", "kb", "reload"]
    (knowledge / TOPIC).write_text("topic: [unclosed", encoding="utf-8")
    refused = subprocess.run(command, env=clean_env(**env), capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert refused.returncode == 1 and "business_registration.yaml" in refused.stderr
    shutil.copy(DATA_DIR / TOPIC, knowledge / TOPIC)
    edit_topic(knowledge, OLD, NEW)
    done = subprocess.run(command, env=clean_env(**env), capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    _wait_for_reload(server, version, "the server did not reload")
    assert NEW in server.client.post("/v1/ask", json={"question": QUESTION}).json()["answer"]


def test_replicas_on_one_postgresql_reload_together(
    knowledge: Path, tmp_path: Path, start_serve: Any, postgres_url: str
) -> None:
    # Two replicas on one database, sharing KNOWLEDGE_DIR as the docs ask; only the first is told to reload.
    shared = {
        "KNOWLEDGE_DIR": str(knowledge),
        "DATABASE_URL": postgres_url,
        "USER_HASH_SALT": "replica-salt-0123456789",
    }
    first = start_serve(**shared, DATA_DIR=str(tmp_path / "a"))
    second = start_serve(**shared, DATA_DIR=str(tmp_path / "b"))
    version = second.client.get("/healthz").json()["knowledge_base"]["version"]
    edit_topic(knowledge, OLD, NEW)
    os.kill(first.process.pid, signal.SIGHUP)
    _wait_for_reload(second, version, "the second replica did not reload")
    for server in (first, second):
        assert NEW in server.client.post("/v1/ask", json={"question": QUESTION}).json()["answer"]
    assert first.stop() == 0 and second.stop() == 0
    assert "another replica reloaded" in second.output()
    assert "another replica reloaded" not in first.output()  # it hears its own notice and knows it for its own
