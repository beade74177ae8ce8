"""Fixtures shared by every test module: the real knowledge base, one engine built on it, a PostgreSQL server,
and stores on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fakes.knowledge import copy_knowledge
from fakes.postgres import PostgresServer, PostgresUnavailable, postgres_server

from bot.store import Store
from intents import Engine
from knowledge import KnowledgeBase, load_knowledge_base

ROOT = Path(__file__).resolve().parent.parent
SOURCES_DIR = ROOT.parent / "shared" / "sources"
DEV_QUESTIONS = ROOT.parent / "shared" / "eval" / "dev-questions.tsv"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    """Return the packaged knowledge base, validated."""
    return load_knowledge_base()


@pytest.fixture(scope="session")
def engine(kb: KnowledgeBase) -> Engine:
    """Return one engine on the real knowledge base, shared by the whole session (it is read-only)."""
    return Engine(kb)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """Start one throwaway PostgreSQL server for the session (Unix socket only); skip where none can be had."""
    with ExitStack() as stack:
        try:
            server = stack.enter_context(postgres_server())
        except PostgresUnavailable as exc:
            pytest.skip(f"no PostgreSQL server for this test: {exc}")
        yield server


_database_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def postgres_url(postgres: PostgresServer, request: pytest.FixtureRequest) -> str:
    """Return the `postgresql://` URL of a fresh, empty database on the session's server, one per test module."""
    stem = re.sub(r"[^a-z0-9_]", "_", request.module.__name__.rsplit(".", 1)[-1].lower())[:40]
    return postgres.create_database(f"t{next(_database_numbers)}_{stem}")


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    """Return a copy of the packaged knowledge base that a test may edit (KNOWLEDGE_DIR, reloads)."""
    return copy_knowledge(tmp_path / "kb")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Return an empty DATA_DIR for one test (its SQLite store is created on first open)."""
    return tmp_path / "data"


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[Store]:
    """Return an open, empty store: SQLite in a fresh folder, or the module's PostgreSQL database (emptied);
    closed after the test."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    opened = Store.from_settings(data_dir, url)
    await opened.open()
    if url is not None:
        await opened.truncate_all()
    yield opened
    await opened.close()
