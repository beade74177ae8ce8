"""Live reload: a changed knowledge base is swapped in while questions keep coming; an invalid one is refused
with its errors and the old one keeps serving; SIGHUP through `kb reload`; Telegram's /reload for admins only."""

from __future__ import annotations

import asyncio
import gc
import weakref
from pathlib import Path

from fakes.knowledge import TOPIC, edit_topic

from bot.config import Settings
from bot.reload import Reloader
from bot.service import Asker, Assistant
from bot.startup import long_lived
from intents import Engine

QUESTION = "企业开办要几天"
OLD, NEW = "已压缩至0.5个工作日", "已压缩至0.5个工作日（测试改写）"


async def _asking(service: Assistant, stop: asyncio.Event, failures: list[BaseException]) -> int:
    asked = 0
    while not stop.is_set():
        try:
            reply = await service.ask(QUESTION, Asker("api"))
            assert reply.answer.intent == "business_registration_time"
        except BaseException as exc:
            failures.append(exc)
        asked += 1
        await asyncio.sleep(0)
    return asked


async def test_a_valid_change_is_swapped_in_while_questions_go_on(knowledge: Path) -> None:
    service = Assistant(Engine.load(data_dir=knowledge))
    reloader = Reloader(service, Settings(knowledge_dir=knowledge))
    edit_topic(knowledge, OLD, NEW)
    stop, failures = asyncio.Event(), []
    askers = [asyncio.create_task(_asking(service, stop, failures)) for _ in range(4)]
    before = service.kb_version
    result = await reloader.reload()
    stop.set()
    asked = sum(await asyncio.gather(*askers))
    assert result.ok and service.kb_version == result.version != before
    assert asked > 0 and failures == []
    assert NEW in (await service.ask(QUESTION, Asker("api"))).text


async def test_an_invalid_base_is_refused_and_the_old_one_keeps_serving(knowledge: Path) -> None:
    service = Assistant(Engine.load(data_dir=knowledge))
    reloader = Reloader(service, Settings(knowledge_dir=knowledge))
    before = service.kb_version
    (knowledge / TOPIC).write_text("topic: [unclosed", encoding="utf-8")
    stop, failures = asyncio.Event(), []
    askers = [asyncio.create_task(_asking(service, stop, failures)) for _ in range(2)]
    result = await reloader.reload()
    stop.set()
    await asyncio.gather(*askers)
    assert not result.ok and "business_registration.yaml" in result.errors
    assert service.kb_version == before and failures == []
    assert OLD in (await service.ask(QUESTION, Asker("api"))).text


async def test_a_reload_frees_the_old_engine_in_a_process_that_froze_its_state(knowledge: Path) -> None:
    """serve freezes its engine out of the cyclic GC (bot.startup); a reload must not keep the old one for good."""
    with long_lived():
        engine = Engine.load(data_dir=knowledge)
        service = Assistant(engine)
    old = weakref.ref(engine.analyzer.lexicon.tokenizer)  # in a reference cycle: only the cyclic GC frees it
    del engine
    try:
        assert gc.get_freeze_count() > 0
        edit_topic(knowledge, OLD, NEW)
        assert (await Reloader(service, Settings(knowledge_dir=knowledge)).reload()).ok
        assert old() is None, "the old engine's dictionary is still in memory after the reload"
        assert NEW in (await service.ask(QUESTION, Asker("api"))).answer.text
    finally:
        gc.unfreeze()
