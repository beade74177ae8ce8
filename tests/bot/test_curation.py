"""`kb suggest` proposes paraphrases from what people picked and what fell back; accepting one and reloading
makes that question answer directly; nothing changes by itself."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.config import Settings
from bot.curation import accepted, review_file
from bot.reload import Reloader
from bot.service import Asker, Assistant
from bot.store import Store
from intents import Engine, Outcome
from knowledge.editing import add_questions
from knowledge.loader import KnowledgeBaseError


async def test_a_picked_suggestion_becomes_a_proposal_that_answers_once_accepted(store: Store, knowledge: Path) -> None:
    service = Assistant(Engine.load(data_dir=knowledge), store=store)
    engine_unsure = next(
        q for q in ("营商环境", "开办", "办事", "企业", "审批") if service.probe(q).outcome is Outcome.SUGGEST
    )
    chat = Asker("wechat", chat_id="o-7")
    offered = await service.ask(engine_unsure, chat)
    chosen = offered.answer.suggestions[1].intent
    assert (await service.ask("2", chat)).answer.intent == chosen
    for _ in range(3):
        await service.ask("附近哪里有好吃的火锅", Asker("api"))
    proposals = await service.proposals(days=1)
    first = proposals[0]
    assert (first.kind, first.entry, first.questions) == ("add_question", chosen, (engine_unsure,))
    assert any(p.kind == "new_entry" and p.count == 3 for p in proposals)
    assert service.probe(engine_unsure).outcome is Outcome.SUGGEST  # nothing changed by itself
    review = yaml.safe_load(review_file(proposals))
    review["proposals"][0]["accept"] = True
    written = add_questions(accepted(yaml.safe_dump(review, allow_unicode=True)), knowledge)
    assert [p.name for p in written] and all(p.parent == knowledge / "topics" for p in written)
    result = await Reloader(service, Settings(knowledge_dir=knowledge)).reload()
    assert result.ok
    answer = service.probe(engine_unsure)
    assert answer.outcome is Outcome.ANSWER and answer.intent == chosen


def test_accepting_into_an_unknown_entry_writes_nothing(knowledge: Path) -> None:
    before = {p.name: p.read_bytes() for p in (knowledge / "topics").iterdir()}
    with pytest.raises(KnowledgeBaseError, match="no such entry"):
        add_questions({"no_such_entry": ["问题"]}, knowledge)
    assert {p.name: p.read_bytes() for p in (knowledge / "topics").iterdir()} == before


def test_kb_suggest_and_accept_from_the_command_line(
    tmp_path: Path, knowledge: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "proposals.yaml"
    assert main(["kb", "suggest", str(out)]) == 0
    assert "proposal(s)" in capsys.readouterr().out and out.read_text(encoding="utf-8").startswith("# Proposals")
    assert main(["kb", "accept", str(out), "--data", str(knowledge)]) == 0
    assert "nothing accepted" in capsys.readouterr().out
    out.write_text("proposals: 5", encoding="utf-8")
    assert main(["kb", "accept", str(out), "--data", str(knowledge)]) == 2
    assert "not a proposals file" in capsys.readouterr().err
