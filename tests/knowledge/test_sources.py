"""Every figure the knowledge base quotes stands, as written, in the report it cites."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from knowledge import Fact, KnowledgeBase, Source
from knowledge.loader import quote_years

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


_YEAR = re.compile(r"((?:19|20)\d\d)年")


def report_paragraphs(source: Source) -> list[str]:
    """Return a report's passages: the 2021 page has one per line; the hard-wrapped 2020 report is one stream."""
    raw = (SOURCES_DIR / source.file).read_text(encoding="utf-8").replace("\r", "")
    if source.id == "nmgrb-2020":
        return [raw.replace("\n", "")]
    return [line for line in raw.split("\n") if line.strip()]


def _quoted_in_order(quote: str, paragraphs: list[str]) -> bool:
    """Whether every "…"-joined part of a quote stands verbatim, in order, in one passage of the report."""
    parts = [p for p in quote.split("…") if p]
    for paragraph in paragraphs:
        at = 0
        for part in parts:
            found = paragraph.find(part, at)
            if found < 0:
                break
            at = found + len(part)
        else:
            return True
    return False


def _all_facts(kb: KnowledgeBase) -> list[tuple[str, str, tuple[Fact, ...]]]:
    """Return (entry id, reply, facts) for every entry and the fallback."""
    rows = [(e.id, e.reply, e.facts) for e in kb.entries.values()]
    return [*rows, ("fallback", kb.fallback.reply, kb.fallback.facts)]


def test_every_quote_is_the_reports_own_words(kb: KnowledgeBase) -> None:
    paragraphs = {s.id: report_paragraphs(s) for s in kb.sources.values()}
    wrong = [
        f"{eid}: {f.figure!r}: quote not verbatim in {f.source.id}: {f.quote}"
        for eid, _, facts in _all_facts(kb)
        for f in facts
        if not _quoted_in_order(f.quote, paragraphs[f.source.id])
    ]
    assert wrong == []


def test_every_number_in_every_reply_is_in_a_cited_report(kb: KnowledgeBase) -> None:
    texts = {s.id: report_text(s.file) for s in kb.sources.values()}
    missing = [
        f"{eid}: {number} in the reply is in none of {sorted({f.source.id for f in facts})}"
        for eid, reply, facts in _all_facts(kb)
        for number in re.findall(r"\d+(?:\.\d+)?", reply)
        if not any(number in texts[f.source.id] for f in facts)
    ]
    assert missing == []


def test_every_year_a_reply_states_is_dated_by_what_it_cites(kb: KnowledgeBase) -> None:
    wrong = []
    report_years = {int(s.date[:4]) for s in kb.sources.values()}
    for eid, reply, facts in _all_facts(kb):
        # "2021年的报道没有给出…" names a report, not a date; every other year must come from what is cited.
        reply = re.sub(
            r"((?:19|20)\d\d)年(?:\d{1,2}月)?的?报道", lambda m: "" if int(m[1]) in report_years else m[0], reply
        )
        allowed = {int(f.source.date[:4]) for f in facts}
        for f in facts:  # the years a quoted sentence dates its content to, and the years it compares with
            allowed |= quote_years(f.quote, f.source) | {int(y) for y in _YEAR.findall(f.quote)}
        for year in _YEAR.findall(reply):
            if int(year) not in allowed:
                wrong.append(f"{eid}: the reply says {year}年, which no cited source or quoted sentence names")
    assert wrong == []


def test_a_result_older_than_its_report_is_dated_in_the_reply(kb: KnowledgeBase) -> None:
    undated = [
        f"{eid}: {f.figure!r} is as of {f.as_of} in a {f.source.date[:4]} report; the reply never says {f.as_of[:4]}年"
        for eid, reply, facts in _all_facts(kb)
        for f in facts
        if f.as_of and f.as_of[:4] != f.source.date[:4] and f"{f.as_of[:4]}年" not in reply
    ]
    assert undated == []


# A passage that opens a sentence with its date ("2020年,呼和浩特市完成…") dates what follows in that passage.
_OPENER = re.compile(r"(?:(?<=^)|(?<=[,，。;；]))(?:(?:19|20)\d\d年|今年|去年以来|截至[^,，。；;]{1,12})(?=[,，])")


def test_a_quote_from_a_dated_passage_carries_the_dating_words(kb: KnowledgeBase) -> None:
    source = kb.sources["hohhot-2021"]  # the 2020 report is hard-wrapped: its passages cannot be told apart
    paragraphs = report_paragraphs(source)
    undated = []
    for eid, _, facts in _all_facts(kb):
        for f in facts:
            if f.source.id != source.id or quote_years(f.quote, f.source):
                continue
            first = next(p for p in f.quote.split("…") if p)
            for paragraph in paragraphs:
                at = paragraph.find(first)
                if at >= 0 and (opener := _OPENER.search(paragraph[:at])):
                    undated.append(f"{eid}: {f.figure!r} follows {opener[0]!r} in its passage; quote it with '…'")
                    break
    assert undated == []
