"""`python -m bot report`: the figures after a known series of questions, votes, picks and 12345 presses."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.service import Asker, Assistant
from bot.store import Store, Vote
from intents import Engine, Outcome
from intents.grouping import group_questions

ANSWERED = "企业开办要几天"
UNANSWERED = ["今天天气怎么样", "今天天气怎么样", "明天天气怎么样啊", "今天的天气好吗", "火车票怎么买", "火车票在哪买"]


async def _series(service: Assistant, engine: Engine) -> tuple[str, str]:
    """Ask a known series; return the answered record's id and the intent of the pick."""
    first = await service.ask(ANSWERED, Asker("api", chat_id=1))
    await service.ask(ANSWERED, Asker("telegram", chat_id=2, user_id=2))
    for question in UNANSWERED:
        assert (await service.ask(question, Asker("api"))).outcome is Outcome.FALLBACK
    unsure = next(q for q in ("营商环境", "开办", "办事", "企业", "审批") if engine.ask(q).outcome is Outcome.SUGGEST)
    offered = await service.ask(unsure, Asker("wechat", chat_id="o1"))
    picked = await service.ask("1", Asker("wechat", chat_id="o1"))
    await service.hotline(Asker("telegram", chat_id=2, user_id=2))
    await service.feedback(first.id, Vote.UP, Asker("api", chat_id=1))
    await service.feedback(first.id, Vote.DOWN, Asker("api", chat_id=1), reason="已过时")  # changed, not added
    await service.feedback(first.id, Vote.UP, Asker("api", chat_id=9))
    assert offered.outcome is Outcome.SUGGEST and picked.via == "pick"
    assert picked.answer.intent is not None
    return first.id, picked.answer.intent


async def test_report_counts_a_known_series(store: Store, engine: Engine) -> None:
    service = Assistant(engine, store=store)
    _, picked = await _series(service, engine)
    report = (await service.report(days=1)).to_dict()
    assert report["questions"] == 9  # asked: 2 answered, 6 unanswered, 1 suggested (the pick is not a question)
    assert report["outcomes"] == {"answer": 2, "fallback": 6, "suggest": 1}
    assert report["picks"] == 1 and report["hotline"] == 1
    assert report["feedback"] == {"up": 1, "down": 1}
    intents = {i["intent"]: i["count"] for i in report["top_intents"]}
    assert intents[engine.ask(ANSWERED).intent] == 2 and intents[picked] == 1
    assert engine.ask(ANSWERED).intent not in report["never_hit"]
    assert len(report["never_hit"]) == len(engine.kb.entries) - len(intents)
    groups = report["unanswered"]
    assert [g["count"] for g in groups] == sorted((g["count"] for g in groups), reverse=True)
    weather = groups[0]
    assert weather["question"] == "今天天气怎么样" and weather["count"] >= 3
    assert sum(g["count"] for g in groups) == 6


def test_grouping_keeps_different_questions_apart(engine: Engine) -> None:
    asked = ["火车票怎么买", "今天天气怎么样", "火车票在哪买", "今天天气怎么样", "企业开办要几天"]
    groups = group_questions(engine.analyzer, asked)
    assert [(g.question, g.count, g.examples) for g in groups] == [
        ("今天天气怎么样", 2, ()),
        ("火车票怎么买", 2, ("火车票在哪买",)),
        ("企业开办要几天", 1, ()),
    ]


def test_report_cli_json_and_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], engine: Engine
) -> None:
    async def fill() -> None:
        store = Store.from_settings(tmp_path, None)
        await store.open()
        try:
            await _series(Assistant(engine, store=store), engine)
        finally:
            await store.close()

    asyncio.run(fill())
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert main(["report", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"questions", "outcomes", "feedback", "top_intents", "unanswered"} <= set(data)
    assert data["questions"] == 9 and data["feedback"] == {"up": 1, "down": 1}
    assert main(["report", "--unanswered", "--csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out.lstrip("\ufeff"))))
    assert rows[0] == ["count", "question", "examples"] and sum(int(r[0]) for r in rows[1:]) == 6
    assert main(["report"]) == 0
    assert "9 个问题" in capsys.readouterr().out
