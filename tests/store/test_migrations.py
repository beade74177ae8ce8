"""The schema comes from Alembic migrations run at open: a new database, an older one, and `db upgrade`."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from bot.cli import main
from bot.store import Store
from bot.store.schema import SCHEMA_REVISION, metadata
from bot.store.store import MIGRATIONS


def _head() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def test_the_fast_path_revision_is_the_newest_migration() -> None:
    assert _head() == SCHEMA_REVISION


async def test_a_new_database_gets_every_table_and_index(store: Store) -> None:
    async with store.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        indexes = await conn.run_sync(lambda c: {i["name"] for i in inspect(c).get_indexes("questions")})
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    assert set(metadata.tables) <= tables
    assert {"ix_questions_asked_at", "ix_questions_outcome", "ix_questions_conversation"} <= indexes
    assert version == SCHEMA_REVISION


async def test_an_older_database_is_upgraded_and_keeps_its_rows(tmp_path: Path) -> None:
    store = Store.from_settings(tmp_path, None)
    await store.open()
    async with store.engine.begin() as conn:
        await conn.execute(text("DROP TABLE feedback"))
        await conn.execute(text("DROP TABLE review_decisions"))
        await conn.execute(text("DROP INDEX ix_questions_conversation"))
        await conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        await conn.execute(
            text(
                "INSERT INTO questions (id, asked_at, channel, question, outcome, score, candidates, kb_version,"
                " reply_ms, via) VALUES ('old', '2026-01-01 00:00:00.000000', 'cli', 'q', 'answer', 1, '[]', 'v',"
                " 1, 'ask')"
            )
        )
    await store.close()
    reopened = Store.from_settings(tmp_path, None)
    await reopened.open()
    try:
        assert await reopened.question("old") is not None
        async with reopened.engine.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        assert version == SCHEMA_REVISION
    finally:
        await reopened.close()


def test_db_upgrade_creates_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "new"))
    assert main(["db", "upgrade"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert (tmp_path / "new" / "assistant.db").is_file()


def test_db_upgrade_reports_an_unusable_database_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "assistant.db").write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert main(["db", "upgrade"]) == 1
    err = capsys.readouterr().err
    assert "cannot open the store" in err and "Traceback" not in err
