"""Fixtures shared by every test module: the real knowledge base, one engine built on it, and stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

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


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Return an empty DATA_DIR for one test (its SQLite store is created on first open)."""
    return tmp_path / "data"


@pytest.fixture
async def store(data_dir: Path) -> AsyncIterator[Store]:
    """Return an open SQLite store in a fresh folder, closed after the test."""
    opened = Store.from_settings(data_dir, None)
    await opened.open()
    yield opened
    await opened.close()
