"""Fixtures shared by every test module: the real knowledge base and one engine built on it."""

from __future__ import annotations

from pathlib import Path

import pytest

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
