"""Locate facts in the reports' text, where the reports are available, without shipping that text.

A fact's `at: N` says its figure is the N-th occurrence (1-based) of that exact string in the cited report's text
with its hard line wraps joined. From there the "dated context" is derived: the passage holding that occurrence,
from its start to the end of the figure's sentence; the dating checks of `kb check` run against it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from knowledge.model import Fact, KnowledgeBase, Source

# Where the project keeps the reports: beside the checkout, never inside it (the project cites them, it does not
# ship their text).
DEFAULT_SOURCES = Path(__file__).resolve().parents[1].parent / "shared" / "sources"
SENTENCE_END = "。；;！？!?"
# A short line without closing punctuation is a heading in the hard-wrapped 2020 report: it bounds a passage.
_HEADING_MAX = 20
_YEAR = re.compile(r"((?:19|20)\d\d)年")
_CLAUSE_END = SENTENCE_END + ",，、"
# A figure its own clause calls past ("从过去全国百城交通拥堵第二名到2020年…") is not dated by what follows it.
_PAST = re.compile(r"过去|以往|以前|此前|曾经")
# A passage that opens a sentence with its date ("2020年,呼和浩特市完成…") dates what follows in that passage.
_OPENER = re.compile(r"(?:(?<=^)|(?<=[,，。;；]))(?:(?:19|20)\d\d年|今年|去年以来|截至[^,，。；;]{1,12})(?=[,，])")


@dataclass(frozen=True, slots=True)
class Report:
    """One report's text, line wraps joined, and where its passages start."""

    source: Source
    text: str
    starts: tuple[int, ...]  # offsets in `text` where a passage begins, ascending, starting with 0

    def occurrence(self, figure: str, at: int) -> int | None:
        """Return the offset of the at-th (1-based) occurrence of figure, or None when there are fewer."""
        found = -1
        for _ in range(at):
            found = self.text.find(figure, found + 1)
            if found < 0:
                return None
        return found

    def count(self, figure: str, upto: int) -> int:
        """Return the 1-based index of the occurrence of figure that starts at offset upto."""
        n, found = 0, -1
        while (found := self.text.find(figure, found + 1)) >= 0 and found <= upto:
            n += 1
        return n

    def passage_start(self, offset: int) -> int:
        """Return the start of the passage holding offset."""
        return max(s for s in self.starts if s <= offset)

    def passage_end(self, offset: int) -> int:
        """Return the end of the passage holding offset."""
        return min((s for s in self.starts if s > offset), default=len(self.text))

    def dated_context(self, figure: str, at: int) -> str | None:
        """Return the figure's sentence, led by the words that date it earlier in its passage ("2020年,…").

        None when the report has fewer than `at` occurrences of the figure.
        """
        found = self.occurrence(figure, at)
        if found is None:
            return None
        start, end = self.passage_start(found), self.passage_end(found)
        after = found + len(figure)
        stops = [i for i in (self.text.find(c, after, end) for c in SENTENCE_END) if i >= 0]
        head = max([start] + [self.text.rfind(c, start, found) + 1 for c in SENTENCE_END])
        clause = max([head] + [self.text.rfind(c, head, found) + 1 for c in _CLAUSE_END])
        if _PAST.search(self.text, clause, found):  # "从过去…第二名到2020年…": later words date a later state
            stops = [after - 1]
        sentence = self.text[head : min(stops) + 1 if stops else end]
        openers = list(_OPENER.finditer(self.text, start, head))
        return f"{openers[-1][0]}…{sentence}" if openers else sentence


def read_report(folder: Path, source: Source) -> Report:
    """Read a report: each line of it starts a passage, except the hard-wrapped lines of a paragraph.

    A report with many long lines ending mid-sentence is hard-wrapped (the 2020 one): there only a heading line
    or a short line closing a sentence ends a passage.
    """
    lines = (folder / source.file).read_text(encoding="utf-8").replace("\r", "").split("\n")
    wrapped = sum(1 for line in lines if line and line[-1] not in SENTENCE_END and len(line) > _HEADING_MAX)
    hard_wrapped = wrapped * 3 > len([line for line in lines if line])
    text, starts, offset, width = [], [0], 0, max((len(line) for line in lines), default=0)
    for i, line in enumerate(lines):
        text.append(line)
        offset += len(line)
        ends = not hard_wrapped or len(line) <= _HEADING_MAX or (line[-1:] in SENTENCE_END and len(line) < width * 0.8)
        if ends and i + 1 < len(lines) and offset != starts[-1]:
            starts.append(offset)
    return Report(source=source, text="".join(text), starts=tuple(starts))


def read_reports(folder: Path, sources: dict[str, Source]) -> dict[str, Report]:
    """Read every cited report in folder."""
    return {sid: read_report(folder, s) for sid, s in sources.items()}


def all_facts(kb: KnowledgeBase) -> list[tuple[str, str, tuple[Fact, ...]]]:
    """Return (entry id, reply, facts) for every entry and the fallback."""
    rows = [(e.id, e.reply, e.facts) for e in kb.entries.values()]
    return [*rows, ("fallback", kb.fallback.reply, kb.fallback.facts)]


def check_against_reports(kb: KnowledgeBase, folder: Path) -> list[str]:
    """Return the problems of kb against the reports in folder: every located figure, dated as its passage dates it.

    The same dating rules as issue #13's quote checks, run on the derived context: where it names a date the fact
    carries `as_of`, of a year it names; every year a reply states is one its facts' sources or contexts name.
    """
    from knowledge.loader import dating_problem, quote_years  # the loader imports this module lazily too

    reports = read_reports(folder, kb.sources)
    problems: list[str] = []
    report_years = {int(s.date[:4]) for s in kb.sources.values()}
    for eid, reply, facts in all_facts(kb):
        allowed = {int(f.source.date[:4]) for f in facts}
        for j, f in enumerate(facts):
            where = f"{eid}: facts[{j}]"
            context = reports[f.source.id].dated_context(f.figure, f.at)
            if context is None:
                problems.append(f"{where}: at: {f.at}: {f.source.id} has fewer occurrences of {f.figure!r}")
                continue
            if (problem := dating_problem(context, f.as_of, f.source)) is not None:
                problems.append(f"{where}.as_of: {problem}")
            allowed |= quote_years(context, f.source) | {int(y) for y in _YEAR.findall(context)}
        # "2021年的报道没有给出…" names a report, not a date; every other year must come from what is cited.
        said = re.sub(
            r"((?:19|20)\d\d)年(?:\d{1,2}月)?的?报道", lambda m: "" if int(m[1]) in report_years else m[0], reply
        )
        problems += [
            f"{eid}: the reply says {y}年, which no cited source or located passage names"
            for y in _YEAR.findall(said)
            if int(y) not in allowed
        ]
    return problems
