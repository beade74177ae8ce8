"""Every figure the knowledge base quotes stands, as written, in the report it cites."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge import KnowledgeBase

SOURCES_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "sources"

pytestmark = pytest.mark.skipif(
    not SOURCES_DIR.is_dir(), reason=f"the reports are not available at {SOURCES_DIR} (CI has ../shared/sources)"
)


def report_text(file: str) -> str:
    """Return a report's text with its hard line wraps joined (the 2020 report breaks lines mid-phrase)."""
    return (SOURCES_DIR / file).read_text(encoding="utf-8").replace("\r", "").replace("\n", "")


def test_every_cited_figure_appears_verbatim_in_its_report(kb: KnowledgeBase) -> None:
    texts = {s.id: report_text(s.file) for s in kb.sources.values()}
    missing = [
        f"{entry.id}: {fact.figure!r} not in {fact.source.id}"
        for entry in kb.entries.values()
        for fact in entry.facts
        if fact.figure not in texts[fact.source.id]
    ]
    missing += [
        f"fallback: {f.figure!r} not in {f.source.id}" for f in kb.fallback.facts if f.figure not in texts[f.source.id]
    ]
    assert missing == []


def test_source_metadata_is_what_the_text_states(kb: KnowledgeBase) -> None:
    for source in kb.sources.values():
        text = report_text(source.file)
        if source.title is not None:
            assert source.title in text
        if source.publisher is not None:
            assert source.publisher in text
        if len(source.date) == 10:  # a full date must be printed in the report itself
            assert source.date in text


def test_the_untitled_report_has_no_invented_title(kb: KnowledgeBase) -> None:
    untitled = kb.sources["hohhot-2021"]
    assert untitled.title is None and untitled.publisher is None
    assert "无标题" in untitled.label


def test_most_figures_in_the_reports_are_covered(kb: KnowledgeBase) -> None:
    figures = {fact.figure for entry in kb.entries.values() for fact in entry.facts}
    assert len(figures) >= 110
