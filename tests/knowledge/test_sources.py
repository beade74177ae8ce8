"""Every figure the knowledge base quotes stands, as written, in the report it cites."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from knowledge import DATA_DIR, Fact, KnowledgeBase, load_knowledge_base
from knowledge.loader import quote_years
from knowledge.reports import Report, all_facts, check_against_reports, read_reports

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


def _all_facts(kb: KnowledgeBase) -> list[tuple[str, str, tuple[Fact, ...]]]:
    return all_facts(kb)


@pytest.fixture(scope="module")
def reports(kb: KnowledgeBase) -> dict[str, Report]:
    return read_reports(SOURCES_DIR, kb.sources)


def test_every_fact_is_located_and_dated_as_its_passage_dates_it(kb: KnowledgeBase) -> None:
    # The checks of issue #13 (as_of required and right where the report's words date a figure; every year a
    # reply states named by what it cites), run on the passage each `at:` locates.
    assert check_against_reports(kb, SOURCES_DIR) == []


def test_every_located_occurrence_exists_and_is_the_figure(kb: KnowledgeBase, reports: dict[str, Report]) -> None:
    for eid, _, facts in _all_facts(kb):
        for f in facts:
            report = reports[f.source.id]
            found = report.occurrence(f.figure, f.at)
            assert found is not None, f"{eid}: {f.figure!r} at {f.at}"
            assert report.text[found : found + len(f.figure)] == f.figure
            assert report.count(f.figure, found) == f.at


def test_the_dated_context_carries_the_dating_words_earlier_in_the_passage(
    kb: KnowledgeBase, reports: dict[str, Report]
) -> None:
    # "2020年,呼和浩特市完成…。与此同时,…。建成国家级绿色工厂5家": the year opens the passage, not the sentence.
    green = next(f for e in kb.entries.values() for f in e.facts if f.figure == "国家级绿色工厂5家")
    context = reports[green.source.id].dated_context(green.figure, green.at)
    assert context is not None and context.startswith("2020年…") and green.figure in context
    assert quote_years(context, green.source) == {2020} and green.as_of == "2020"
    # "今年,…截至6月5日,全市优良天数128天": relative dates mean the report's year.
    air = next(f for e in kb.entries.values() for f in e.facts if f.figure == "128天")
    assert 2021 in quote_years(reports[air.source.id].dated_context(air.figure, air.at) or "", air.source)


def _with_fact_edit(data_dir: Path, figure: str, edit: str, by: str) -> None:
    for path in (data_dir / "topics").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        head = f"      - figure: {figure}\n"
        if head in text:
            at = text.index(head)
            block_end = text.index("\n      - ", at + 1) if "\n      - " in text[at + 1 :] else len(text)
            block = text[at:block_end]
            assert edit in block, (figure, edit)
            path.write_text(text[:at] + block.replace(edit, by, 1) + text[block_end:], encoding="utf-8")
            return
    raise AssertionError(figure)


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    shutil.copytree(DATA_DIR, tmp_path / "data")
    return tmp_path / "data"


def test_a_fact_from_a_dated_passage_without_as_of_is_refused(data_copy: Path) -> None:
    _with_fact_edit(data_copy, "国家级绿色工厂5家", '        as_of: "2020"\n', "")
    problems = check_against_reports(load_knowledge_base(data_copy), SOURCES_DIR)
    missing = ".as_of: is missing: the report's sentence dates the figure (2020年)"
    assert any(p.endswith(missing) for p in problems)


def test_an_as_of_the_passage_does_not_name_is_refused(data_copy: Path) -> None:
    _with_fact_edit(data_copy, "国家级绿色工厂5家", 'as_of: "2020"', 'as_of: "2019"')
    problems = check_against_reports(load_knowledge_base(data_copy), SOURCES_DIR)
    assert any(p.endswith("'2019' is not a year the report's sentence names (2020年)") for p in problems)


def test_a_locator_past_the_last_occurrence_is_named(data_copy: Path) -> None:
    _with_fact_edit(data_copy, "国家级绿色工厂5家", "at: 1", "at: 99")
    problems = check_against_reports(load_knowledge_base(data_copy), SOURCES_DIR)
    assert any(p.endswith("at: 99: hohhot-2021 has fewer occurrences of '国家级绿色工厂5家'") for p in problems)


def test_kb_check_runs_the_report_checks(data_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    assert main(["kb", "check", "--sources", str(SOURCES_DIR)]) == 0
    assert "every fact located and dated" in capsys.readouterr().out
    _with_fact_edit(data_copy, "国家级绿色工厂5家", "at: 1", "at: 99")
    assert main(["kb", "check", "--data", str(data_copy), "--sources", str(SOURCES_DIR)]) == 1
    assert "fewer occurrences" in capsys.readouterr().err


_MIN_RUN = 20
# A figure, a title in 《》 and a name or slogan in “” are the report's words on purpose; prose is not.
_NAMES = re.compile(r"《[^》]*》|“[^”]*”")


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_the_knowledge_base_ships_no_run_of_report_prose(kb: KnowledgeBase) -> None:
    # The project cites the reports, it does not ship their text: no 20-character run of any string in
    # knowledge/data (replies, questions, measures) stands verbatim in a report, once figures and names are set aside.
    text = "".join(report_text(s.file) for s in kb.sources.values())
    figures = sorted({f.figure for _, _, facts in _all_facts(kb) for f in facts}, key=len, reverse=True)
    shipped = []
    for path in sorted(DATA_DIR.rglob("*.yaml")):
        for value in _strings(yaml.safe_load(path.read_text(encoding="utf-8"))):
            prose = _NAMES.sub("\0", value)
            for figure in figures:
                prose = prose.replace(figure, "\0")
            runs = (prose[i : i + _MIN_RUN] for i in range(len(prose) - _MIN_RUN + 1))
            shipped += [f"{path.name}: {run!r}" for run in runs if "\0" not in run and run in text]
    assert shipped == []


def test_the_prose_check_finds_a_copied_sentence(kb: KnowledgeBase) -> None:
    # The check above would see a report's sentence pasted into a reply.
    text = report_text(kb.sources["hohhot-2021"].file)
    sentence = max(re.split(r"[。；]", text), key=len)
    assert len(sentence) > _MIN_RUN and sentence[:_MIN_RUN] in text and not _NAMES.fullmatch(sentence[:_MIN_RUN])


def test_every_number_in_every_reply_is_in_a_cited_report(kb: KnowledgeBase) -> None:
    texts = {s.id: report_text(s.file) for s in kb.sources.values()}
    missing = [
        f"{eid}: {number} in the reply is in none of {sorted({f.source.id for f in facts})}"
        for eid, reply, facts in _all_facts(kb)
        for number in re.findall(r"\d+(?:\.\d+)?", reply)
        if not any(number in texts[f.source.id] for f in facts)
    ]
    assert missing == []


def test_a_result_older_than_its_report_is_dated_in_the_reply(kb: KnowledgeBase) -> None:
    undated = [
        f"{eid}: {f.figure!r} is as of {f.as_of} in a {f.source.date[:4]} report; the reply never says {f.as_of[:4]}年"
        for eid, reply, facts in _all_facts(kb)
        for f in facts
        if f.as_of and f.as_of[:4] != f.source.date[:4] and f"{f.as_of[:4]}年" not in reply
    ]
    assert undated == []
