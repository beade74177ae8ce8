"""The assistant façade: every interaction recorded before the reply, numbered choices, retries recorded once,
escalations in the same transaction, and answers that go on when the store fails."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.console import run_console
from bot.service import Asker, Assistant
from bot.store import Store
from intents import Engine, Outcome

SINCE = datetime(2000, 1, 1, tzinfo=UTC)
ANSWERED = "企业开办要几天"
OUT_OF_SCOPE = "今天天气怎么样"


def _unsure(engine: Engine) -> str:
    return next(q for q in ("营商环境", "开办", "办事", "企业", "审批") if engine.ask(q).outcome is Outcome.SUGGEST)


async def test_a_reply_is_recorded_with_what_a_curator_needs(store: Store, engine: Engine) -> None:
    service = Assistant(engine, store=store, salt="s" * 16)
    reply = await service.ask(" 企业\u200b开办要几天\x07 ", Asker("api", chat_id=42, user_id=42))
    record = await store.question(reply.id)
    assert record is not None and reply.recorded
    assert record.question == ANSWERED and record.outcome == "answer" and record.intent == reply.answer.intent
    assert record.candidates and record.candidates[0].intent == reply.answer.intent
    assert record.kb_version == service.kb_version and record.reply_ms > 0
    assert record.user_hash is not None and "42" not in record.user_hash
    assert reply.to_dict()["id"] == reply.id and reply.to_dict()["outcome"] == "answer"


async def test_a_bare_number_picks_a_choice_only_when_one_was_offered(store: Store, engine: Engine) -> None:
    service = Assistant(engine, store=store)
    chat = Asker("wechat", chat_id="openid-1")
    first = await service.ask("1", chat)
    assert first.via == "ask"  # nothing on screen: "1" is a question like any other
    offered = await service.ask(_unsure(engine), chat)
    assert offered.outcome is Outcome.SUGGEST
    picked = await service.ask("2", chat)
    assert picked.via == "pick" and picked.answer.intent == offered.answer.suggestions[1].intent
    other_chat = await service.ask("2", Asker("wechat", chat_id="openid-2"))
    assert other_chat.via == "ask"  # another chat's choices are not this one's
    again = await service.ask("2", chat)
    assert again.via == "ask"  # an answer replaced the choices


async def test_choices_expire(store: Store, engine: Engine) -> None:
    service = Assistant(engine, store=store, context_ttl_seconds=0)
    chat = Asker("console", chat_id="c")
    await service.ask(_unsure(engine), chat)
    assert (await service.ask("1", chat)).via == "ask"


async def test_a_retried_message_is_recorded_once(store: Store, engine: Engine) -> None:
    service = Assistant(engine, store=store, salt="s" * 16)
    chat = Asker("wechat", chat_id="openid-9", user_id="openid-9")
    first = await service.ask(ANSWERED, chat, message_id="id:6001")
    retry = await service.ask(ANSWERED, chat, message_id="id:6001")
    assert first.recorded and not first.duplicate
    assert retry.duplicate and retry.answer.text == first.answer.text
    assert await store.count_questions() == 1


async def test_only_a_fallback_is_escalated_with_its_record(store: Store, engine: Engine) -> None:
    woken: list[int] = []
    service = Assistant(engine, store=store, escalate=True, on_escalation=lambda: woken.append(1))
    answered = await service.ask(ANSWERED, Asker("api"))
    fell_back = await service.ask(OUT_OF_SCOPE, Asker("api"))
    [item] = await store.outbox_items(["pending"])
    assert item.question_id == fell_back.id != answered.id
    assert json.loads(item.payload)["record_id"] == fell_back.id
    assert woken == [1]


async def test_answers_go_on_when_the_store_fails(store: Store, engine: Engine) -> None:
    service = Assistant(engine, store=store)
    await store.close()  # the database went away
    reply = await service.ask(ANSWERED, Asker("api"))
    assert reply.outcome is Outcome.ANSWER and not reply.recorded
    assert service.store_health.last_error == "StoreError" and service.store_health.failures == 1
    await store.open()
    assert (await service.ask(ANSWERED, Asker("api"))).recorded
    assert service.store_health.last_error is None


def test_cli_ask_records_and_prints_the_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert main(["ask", "--json", ANSWERED]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["outcome"] == "answer" and len(body["id"]) == 32

    async def stored() -> list[tuple[str, str]]:
        store = Store.from_settings(tmp_path, None)
        await store.open()
        try:
            return [(r.id, r.channel) for r in await store.questions_since(SINCE)]
        finally:
            await store.close()

    import asyncio

    assert asyncio.run(stored()) == [(body["id"], "cli")]


def test_cli_ask_answers_when_the_data_folder_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("DATA_DIR", str(blocker / "data"))
    assert main(["ask", ANSWERED]) == 0
    captured = capsys.readouterr()
    assert "0.5个工作日" in captured.out


async def test_the_console_picks_a_numbered_choice(store: Store, engine: Engine) -> None:
    service = Assistant(engine, store=store)
    unsure = _unsure(engine)
    out = io.StringIO()
    await run_console(service, io.StringIO(f"1\n{unsure}\n1\n"), out)
    text = out.getvalue()
    first_choice = engine.ask(unsure).suggestions[0].intent
    assert engine.answer_entry(first_choice).reply in text
    vias = [r.via for r in await store.questions_since(SINCE)]
    assert vias == ["ask", "ask", "pick"]


async def test_a_follow_up_is_read_against_the_chat_last_answer_on_any_replica(
    store: Store, engine: Engine, data_dir: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("postgres_url") if store.dialect == "postgresql" else None
    second_store = Store.from_settings(data_dir, url)  # another replica: its own connections, the same data
    await second_store.open()
    try:
        first = Assistant(engine, store=store, salt="s" * 16)
        second = Assistant(engine, store=second_store, salt="s" * 16)
        chat = Asker("web", chat_id="tab-1")
        assert (await first.ask(ANSWERED, chat)).answer.intent == "business_registration_time"
        follow_up = await second.ask("旗县呢", chat)
        assert follow_up.outcome is Outcome.ANSWER and "1.5个工作日" in follow_up.answer.text
        record = await store.question(follow_up.id)
        assert record is not None and record.intent == "business_registration_county_time"
        # Another chat never sees this one's context.
        elsewhere = await second.ask("旗县呢", Asker("web", chat_id="tab-2"))
        assert elsewhere.outcome is not Outcome.ANSWER
    finally:
        await second_store.close()


async def test_a_question_that_stands_alone_is_never_bent_by_context(store: Store, engine: Engine) -> None:
    service = Assistant(engine, store=store)
    chat = Asker("api", chat_id=7)
    await service.ask(ANSWERED, chat)
    alone = engine.ask("12345热线是干什么的")
    assert (await service.ask("12345热线是干什么的", chat)).answer.intent == alone.intent
    assert (await service.ask(OUT_OF_SCOPE, chat)).outcome is Outcome.FALLBACK


async def test_context_expires_and_needs_a_chat(store: Store, engine: Engine) -> None:
    expired = Assistant(engine, store=store, context_ttl_seconds=0)
    chat = Asker("console", chat_id="c")
    await expired.ask(ANSWERED, chat)
    assert (await expired.ask("旗县呢", chat)).outcome is not Outcome.ANSWER
    service = Assistant(engine, store=store)
    await service.ask(ANSWERED, Asker("cli"))
    assert (await service.ask("旗县呢", Asker("cli"))).outcome is not Outcome.ANSWER  # no chat: no conversation


async def test_follow_ups_work_without_a_store(engine: Engine) -> None:
    service = Assistant(engine)
    chat = Asker("console", chat_id="c")
    await service.ask(ANSWERED, chat)
    await service.ask(OUT_OF_SCOPE, chat)  # a fallback in between keeps the last answered entry
    assert "1.5个工作日" in (await service.ask("旗县呢", chat)).answer.text
