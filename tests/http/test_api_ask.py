"""POST /v1/ask, GET /v1/topics, GET /v1/entries/{id} and GET /healthz over real HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from http_helpers import ANSWERED, OUT_OF_SCOPE, Running

from intents import Engine
from knowledge import KnowledgeBase


def _without_id(body: dict[str, object]) -> dict[str, object]:
    assert isinstance(body["id"], str) and len(body["id"]) == 32  # each reply's own record
    return {k: v for k, v in body.items() if k != "id"}


def test_ask_returns_the_json_of_ask_json(api: Running, tmp_path: Path) -> None:
    response = api.client.post("/v1/ask", json={"question": ANSWERED})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    cli = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", ANSWERED],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, "DATA_DIR": str(tmp_path)},
    )
    assert _without_id(response.json()) == _without_id(json.loads(cli.stdout))
    assert response.json()["intent"] is not None
    assert response.json()["fallback"] is False and response.json()["outcome"] == "answer"


def test_ask_falls_back_out_of_scope(api: Running, engine: Engine) -> None:
    response = api.client.post("/v1/ask", json={"question": OUT_OF_SCOPE, "chat_id": 42})
    assert response.status_code == 200
    body = response.json()
    expected = {"outcome": "fallback", **engine.ask(OUT_OF_SCOPE).to_dict(), "kb_version": api.service.kb_version}
    assert _without_id(body) == expected
    assert body["fallback"] is True and body["intent"] is None
    assert "12345" in body["answer"]


def test_chat_id_may_be_a_string(api: Running) -> None:
    response = api.client.post("/v1/ask", json={"question": ANSWERED, "chat_id": "wecom:zhang-san"})
    assert response.status_code == 200


def test_unknown_fields_are_ignored(api: Running) -> None:
    response = api.client.post("/v1/ask", json={"question": ANSWERED, "lang": "zh"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "question",
    [
        "企业开办要几天😀🚀",
        "<script>alert('企业开办')</script>",
        "<b>企业开办</b>&amp;要几天",
        "企业\x00开办\x07要\x1b[31m几天\r\n",
        "\u202e企业开办要几天\u200b\ufeff",
        "\ud800企业开办",
        "",
        "   ",
        "😀" * 1000,
        "'; DROP TABLE questions; --",
    ],
    ids=["emoji", "script", "html", "control", "bidi", "lone-surrogate", "empty", "blank", "emoji-flood", "sql"],
)
def test_odd_questions_get_a_json_answer(api: Running, question: str) -> None:
    # Sent as raw JSON text so a lone surrogate goes over the wire as the escape \ud800.
    body = json.dumps({"question": question}, ensure_ascii=True)
    response = api.client.post("/v1/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    data = response.json()
    assert isinstance(data["answer"], str) and data["answer"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_topics_lists_every_topic_and_entry(api: Running, kb: KnowledgeBase) -> None:
    response = api.client.get("/v1/topics")
    assert response.status_code == 200
    topics = response.json()["topics"]
    assert [t["id"] for t in topics] == [t.id for t in kb.topics]
    assert sum(len(t["entries"]) for t in topics) == len(kb.entries)
    first = topics[0]["entries"][0]
    assert first["question"] == kb.entries[first["id"]].questions[0]


def test_entry_has_questions_reply_facts_and_sources(api: Running, kb: KnowledgeBase) -> None:
    entry_id = next(iter(kb.entries))
    response = api.client.get(f"/v1/entries/{entry_id}")
    assert response.status_code == 200
    data = response.json()
    assert data["id"] == entry_id
    assert data["questions"] == list(kb.entries[entry_id].questions)
    assert data["reply"] == kb.entries[entry_id].reply
    assert data["facts"] and data["sources"]


@pytest.mark.parametrize("entry_id", ["no_such_entry", "%2e%2e", "企业开办", "x" * 2000])
def test_unknown_entry_is_a_json_404(api: Running, entry_id: str) -> None:
    response = api.client.get(f"/v1/entries/{entry_id}")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_healthz_reports_the_knowledge_base(api: Running, kb: KnowledgeBase) -> None:
    response = api.client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["checks"] == {"engine": "ok", "store": "ok"}
    assert body["knowledge_base"]["topics"] == len(kb.topics)
    assert body["knowledge_base"]["entries"] == len(kb.entries)
    assert api.client.head("/healthz").status_code == 200


def test_unknown_path_and_method_are_json_errors(api: Running) -> None:
    missing = api.client.get("/v2/ask")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = api.client.get("/v1/ask")
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"
    assert "POST" in wrong.headers["allow"]
