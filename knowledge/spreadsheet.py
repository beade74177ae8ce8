"""The curators' spreadsheet round trip: export the topic files to an .xlsx workbook and import an edited one.

The workbook has two sheets. `entries` holds one row per entry: id, topic, questions (one a line), reply,
related (comma-separated ids), then six columns per fact (figure N, kind N, measures N, as_of N, source N,
at N). `topics` holds one row per topic file: id, title, file. An import rebuilds the topic files from the
sheets, validates them with the same loader as `kb check` (every error located by sheet, row and column),
and writes nothing unless all of it is valid; files whose content did not change are left untouched.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from knowledge.loader import DATA_DIR, Problem, check_knowledge_base
from knowledge.model import AnswerKind, Entry, Fact, KnowledgeBase, Topic

ENTRIES_SHEET = "entries"
TOPICS_SHEET = "topics"
ENTRY_COLUMNS = ("id", "topic", "questions", "reply", "related")
FACT_FIELDS = ("figure", "kind", "measures", "as_of", "source", "at")
TOPIC_COLUMNS = ("id", "title", "file")
MAX_ROWS = 10_000  # far above any real knowledge base; a larger sheet is refused rather than read into memory
_FACT_HEADER = re.compile(r"^(figure|kind|measures|as_of|source|at) (\d+)$")
_FACT_FIELD = re.compile(r"^facts\[(\d+)\](?:\.(\w+))?$")
_TOPIC_FILE = re.compile(r"^[a-z][a-z0-9_]*\.yaml$")


@dataclass(frozen=True, slots=True)
class CellProblem:
    """One error in a workbook, located by sheet, row and column (or by file, for files the sheet does not hold)."""

    message: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        if self.sheet is None:
            return self.message
        where = f"sheet {self.sheet!r}"
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class SpreadsheetError(Exception):
    """The workbook could not be imported; `problems` lists every error found, and nothing was written."""

    def __init__(self, problems: Sequence[CellProblem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"the workbook has {len(self.problems)} error(s); nothing was written:\n{lines}")


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import changed: the topic files written, and how many were left as they were."""

    written: tuple[Path, ...]
    unchanged: int


# ---------------------------------------------------------------------------------------------------- export


def _topic_files(data_dir: Path) -> dict[str, str]:
    """Return topic id -> file name for the topic files in a knowledge folder."""
    files: dict[str, str] = {}
    for path in sorted((data_dir / "topics").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        topic = data.get("topic") if isinstance(data, dict) else None
        if isinstance(topic, dict) and isinstance(topic.get("id"), str):
            files[topic["id"]] = path.name
    return files


def _fact_cells(fact: Fact) -> list[str]:
    return [fact.figure, fact.kind.value, fact.measures, fact.as_of or "", fact.source.id, str(fact.at)]


def export_workbook(kb: KnowledgeBase, path: Path, data_dir: Path = DATA_DIR) -> None:
    """Write every topic and entry of a validated knowledge base to an .xlsx workbook."""
    files = _topic_files(data_dir)
    width = max(len(e.facts) for e in kb.entries.values())
    book = Workbook()
    blank = book.active
    entries = book.create_sheet(ENTRIES_SHEET)
    if blank is not None:
        book.remove(blank)
    header = [*ENTRY_COLUMNS, *(f"{name} {n}" for n in range(1, width + 1) for name in FACT_FIELDS)]
    entries.append(header)
    for topic in kb.topics:
        for entry in kb.topic_entries(topic.id):
            row = [entry.id, topic.id, "\n".join(entry.questions), entry.reply, ", ".join(entry.related)]
            for fact in entry.facts:
                row += _fact_cells(fact)
            entries.append(row)
    _format(entries, header, kb)
    topics = book.create_sheet(TOPICS_SHEET)
    topics.append(list(TOPIC_COLUMNS))
    for topic in kb.topics:
        topics.append([topic.id, topic.title, files.get(topic.id, f"{topic.id}.yaml")])
    topics.freeze_panes = "A2"
    for letter, chars in zip("ABC", (28, 24, 28), strict=True):
        topics.column_dimensions[letter].width = chars
    tmp = path.with_name(f".{path.name}.tmp")
    book.save(tmp)
    os.replace(tmp, path)


def _format(sheet: Worksheet, header: list[str], kb: KnowledgeBase) -> None:
    """Freeze the header, size the columns and offer the allowed kinds and sources as drop-down lists."""
    sheet.freeze_panes = "C2"
    widths = {"id": 30, "topic": 20, "questions": 40, "reply": 60, "related": 30, "figure": 20, "kind": 12}
    kinds = DataValidation(type="list", formula1='"' + ",".join(k.value for k in AnswerKind) + '"')
    sources = DataValidation(type="list", formula1='"' + ",".join(kb.sources) + '"')
    for index, name in enumerate(header, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = widths.get(name.split(" ")[0], 30)
        if name.startswith("kind "):
            kinds.add(f"{letter}2:{letter}{MAX_ROWS}")
        elif name.startswith("source "):
            sources.add(f"{letter}2:{letter}{MAX_ROWS}")
    sheet.add_data_validation(kinds)
    sheet.add_data_validation(sources)


# ---------------------------------------------------------------------------------------------------- import


def _values(sheet: Any) -> Iterator[tuple[Any, ...]]:
    """Yield a sheet's rows as plain values, at most MAX_ROWS + 1 of them (the header and MAX_ROWS entries)."""
    yield from sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 1)


@dataclass(frozen=True, slots=True)
class _Row:
    """Where an entry came from in the sheet, to locate the loader's errors."""

    number: int
    fact_groups: tuple[int, ...]  # facts[j] came from the columns "… N" with N = fact_groups[j]


class _Reader:
    """Turn the two sheets into topic-file data, collecting every problem with its cell."""

    def __init__(self) -> None:
        self.problems: list[CellProblem] = []
        self.entry_columns: dict[str, int] = {}
        self.fact_columns: dict[tuple[str, int], int] = {}
        self.rows: dict[str, list[_Row]] = {}
        self.topic_rows: dict[str, int] = {}
        self.topic_files: dict[str, str] = {}

    def add(self, message: str, sheet: str | None = None, row: int | None = None, column: int | None = None) -> None:
        where = None if column is None else f"{get_column_letter(column)} ({self._header(sheet, column)})"
        self.problems.append(CellProblem(message, sheet, row, where))

    def _header(self, sheet: str | None, column: int) -> str:
        """Return the name the column should have (the fixed ones) or has (the fact columns)."""
        fixed = ENTRY_COLUMNS if sheet == ENTRIES_SHEET else TOPIC_COLUMNS
        if column <= len(fixed):
            return fixed[column - 1]
        for (name, n), index in self.fact_columns.items():
            if index == column:
                return f"{name} {n}"
        return "?"

    def text(self, value: Any, sheet: str, row: int, column: int) -> str | None:
        """Return a cell as text (numbers typed into a cell become their digits), or None when empty."""
        if value is None:
            return None
        if isinstance(value, (bool, datetime, date, time)):
            self.add(f"must be text, not a {type(value).__name__} (format the cell as text)", sheet, row, column)
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).replace("\r\n", "\n").strip()
        return text or None

    def topics(self, sheet: Worksheet | ReadOnlyWorksheet) -> dict[str, dict[str, Any]]:
        rows = _values(sheet)
        header = [str(v).strip() if v is not None else "" for v in next(rows, ())]
        if tuple(header[:3]) != TOPIC_COLUMNS:
            self.add(f"the header must be {', '.join(TOPIC_COLUMNS)}", TOPICS_SHEET, 1)
            return {}
        topics: dict[str, dict[str, Any]] = {}
        files: set[str] = set()
        for number, values in enumerate(rows, start=2):
            cells = [self.text(v, TOPICS_SHEET, number, i + 1) for i, v in enumerate(values[:3])]
            cells += [None] * (3 - len(cells))
            tid, title, file = cells
            if not any(cells):
                continue
            if tid is None:
                self.add("a topic needs an id", TOPICS_SHEET, number, 1)
                continue
            if tid in topics:
                self.add(f"duplicate topic id {tid!r} (first on row {self.topic_rows[tid]})", TOPICS_SHEET, number, 1)
                continue
            if file is None or not _TOPIC_FILE.match(file) or file in files:
                why = "is used by another topic" if file in files else "must be a snake_case name ending in .yaml"
                self.add(f"file {file!r} {why}", TOPICS_SHEET, number, 3)
                continue
            files.add(file)
            self.topic_rows[tid] = number
            self.topic_files[tid] = file
            topics[tid] = {"topic": {"id": tid, "title": title}, "entries": []}
        return topics

    def entries(self, sheet: Worksheet | ReadOnlyWorksheet, topics: dict[str, dict[str, Any]]) -> None:
        rows = _values(sheet)
        if not self._entry_header([str(v).strip() if v is not None else "" for v in next(rows, ())]):
            return
        groups = sorted({n for _, n in self.fact_columns})
        for number, values in enumerate(rows, start=2):
            if number > MAX_ROWS:
                self.add(f"has more than {MAX_ROWS} rows", ENTRIES_SHEET, number)
                return
            cells = {i + 1: self.text(v, ENTRIES_SHEET, number, i + 1) for i, v in enumerate(values)}
            if not any(cells.values()):
                continue
            self._entry(number, cells, groups, topics)

    def _entry_header(self, header: list[str]) -> bool:
        for index, name in enumerate(ENTRY_COLUMNS, start=1):
            if index > len(header) or header[index - 1] != name:
                self.add(f"the header must start with {', '.join(ENTRY_COLUMNS)}", ENTRIES_SHEET, 1, index)
                return False
            self.entry_columns[name] = index
        for index, name in enumerate(header[len(ENTRY_COLUMNS) :], start=len(ENTRY_COLUMNS) + 1):
            match = _FACT_HEADER.match(name)
            if not name:
                continue
            if not match or (match[1], int(match[2])) in self.fact_columns:
                self.add(f"unknown or repeated column {name!r}", ENTRIES_SHEET, 1, index)
                return False
            self.fact_columns[match[1], int(match[2])] = index
        return True

    def _entry(
        self, number: int, cells: dict[int, str | None], groups: list[int], topics: dict[str, dict[str, Any]]
    ) -> None:
        def cell(name: str) -> str | None:
            return cells.get(self.entry_columns[name])

        eid, tid = cell("id"), cell("topic")
        if eid is None:
            self.add("an entry needs an id", ENTRIES_SHEET, number, 1)
            return
        if tid is None or tid not in topics:
            known = "a topic id from the 'topics' sheet"
            self.add(f"unknown topic {tid!r}: must be {known}" if tid else f"must be {known}", ENTRIES_SHEET, number, 2)
            return
        item: dict[str, Any] = {"id": eid}
        questions = cell("questions")
        item["questions"] = [q.strip() for q in questions.split("\n") if q.strip()] if questions else []
        item["reply"] = cell("reply")
        facts: list[dict[str, Any]] = []
        used: list[int] = []
        for n in groups:
            fact = {f: cells.get(self.fact_columns[f, n]) for f in FACT_FIELDS if (f, n) in self.fact_columns}
            fact = {f: v for f, v in fact.items() if v is not None}  # an empty cell is a missing field
            if not fact:
                continue
            facts.append(fact)
            used.append(n)
        item["facts"] = facts
        related = cell("related")
        if related:
            item["related"] = [r.strip() for r in re.split(r"[,，、\s]+", related) if r.strip()]
        topics[tid]["entries"].append(item)
        self.rows.setdefault(eid, []).append(_Row(number, tuple(used)))

    def locate(self, problem: Problem) -> CellProblem:
        """Return a loader problem located in the sheet it came from."""
        text = problem.message
        topic = next((t for t, f in self.topic_files.items() if f == problem.file), None)
        if topic is None:
            return CellProblem(str(problem))
        rows = self.rows.get(problem.entry or "")
        if not rows:
            column = 2 if problem.field == "topic.title" else 1
            where = None if problem.field in (None, "entries") else column
            if problem.field == "entries":
                text = f"{text} (no row in the 'entries' sheet has this topic)"
            return self._problem(text, TOPICS_SHEET, self.topic_rows[topic], where)
        row = rows[-1] if "duplicate" in text else rows[0]
        field = problem.field or "id"
        match = _FACT_FIELD.match(field)
        if field.startswith("questions"):
            return self._problem(text, ENTRIES_SHEET, row.number, self.entry_columns["questions"])
        if match:
            j, name = int(match[1]), match[2] or "figure"
            group = row.fact_groups[j] if j < len(row.fact_groups) else 1
            return self._problem(text, ENTRIES_SHEET, row.number, self.fact_columns.get((name, group)))
        if field == "facts":
            return self._problem(text, ENTRIES_SHEET, row.number, self.fact_columns.get(("figure", 1)))
        return self._problem(text, ENTRIES_SHEET, row.number, self.entry_columns.get(field, 1))

    def _problem(self, message: str, sheet: str, row: int, column: int | None) -> CellProblem:
        where = None if column is None else f"{get_column_letter(column)} ({self._header(sheet, column)})"
        return CellProblem(message, sheet, row, where)


def read_workbook(path: Path) -> tuple[_Reader, dict[str, dict[str, Any]]]:
    """Read a workbook into topic-file data; raise SpreadsheetError when it is not a readable knowledge sheet."""
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, ValueError… for what is not a workbook
        message = f"{path.name}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})"
        raise SpreadsheetError([CellProblem(message)]) from exc
    try:
        missing = [name for name in (ENTRIES_SHEET, TOPICS_SHEET) if name not in book.sheetnames]
        if missing:
            found = ", ".join(repr(n) for n in book.sheetnames)
            raise SpreadsheetError(
                [CellProblem(f"{path.name}: no sheet named {name!r} (the workbook has {found})") for name in missing]
            )
        sheets = {name: book[name] for name in (ENTRIES_SHEET, TOPICS_SHEET)}
        for name, sheet in sheets.items():
            if not isinstance(sheet, (Worksheet, ReadOnlyWorksheet)):
                raise SpreadsheetError([CellProblem(f"{path.name}: sheet {name!r} is not a worksheet")])
        reader = _Reader()
        topics = reader.topics(sheets[TOPICS_SHEET])
        reader.entries(sheets[ENTRIES_SHEET], topics)
    except (KeyError, ValueError, TypeError, OSError) as exc:  # a damaged part of the archive
        message = f"{path.name}: the workbook is damaged ({type(exc).__name__}: {exc})"
        raise SpreadsheetError([CellProblem(message)]) from exc
    finally:
        book.close()
    return reader, topics


def import_workbook(path: Path, data_dir: Path = DATA_DIR) -> ImportResult:
    """Validate an edited workbook and write the topic files it changes; on any error, write nothing."""
    reader, topics = read_workbook(path)
    if reader.problems:
        raise SpreadsheetError(reader.problems)
    texts = {reader.topic_files[tid]: dump_topic(data) for tid, data in topics.items()}
    with tempfile.TemporaryDirectory(prefix="kb-import-") as tmp:
        staged = Path(tmp)
        (staged / "topics").mkdir()
        for name in ("sources.yaml", "fallback.yaml"):
            if (data_dir / name).exists():
                shutil.copy(data_dir / name, staged / name)
        for old in (data_dir / "topics").glob("*.yaml"):
            if old.name not in texts:  # topic files the workbook does not list stay as they are
                shutil.copy(old, staged / "topics" / old.name)
        for name, text in texts.items():
            (staged / "topics" / name).write_text(text, encoding="utf-8")
        new_kb, problems = check_knowledge_base(staged)
    if new_kb is None:
        raise SpreadsheetError([reader.locate(p) for p in problems])
    old_kb, _ = check_knowledge_base(data_dir)
    changed: dict[str, str] = {}
    for tid, name in reader.topic_files.items():
        if not _same(data_dir / "topics" / name, texts[name], tid, old_kb, new_kb):
            changed[name] = texts[name]
    return ImportResult(written=_write_all(data_dir / "topics", changed), unchanged=len(texts) - len(changed))


def _same(path: Path, text: str, tid: str, old: KnowledgeBase | None, new: KnowledgeBase) -> bool:
    """Whether a topic file already says what the workbook says (byte for byte, or entry for entry)."""
    if not path.exists():
        return False
    if path.read_text(encoding="utf-8") == text:
        return True
    if old is None or tid not in {t.id for t in old.topics}:
        return False
    return _topic(old, tid) == _topic(new, tid) and old.topic_entries(tid) == new.topic_entries(tid)


def _topic(kb: KnowledgeBase, tid: str) -> Topic:
    return next(t for t in kb.topics if t.id == tid)


def _write_all(folder: Path, texts: dict[str, str]) -> tuple[Path, ...]:
    """Write every file beside its target first, then move each into place, so no half-written file is left."""
    staged: list[tuple[Path, Path]] = []
    try:
        for name, text in texts.items():
            tmp = folder / f".{name}.tmp"
            tmp.write_text(text, encoding="utf-8")
            staged.append((tmp, folder / name))
        for tmp, target in staged:
            os.replace(tmp, target)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    return tuple(target for _, target in staged)


# ---------------------------------------------------------------------------------------------------- YAML


def _scalar(value: str, *, quoted: bool = False) -> str:
    """Return a string as the topic files write it: plain where YAML reads it back as the same string."""
    try:
        back = yaml.safe_load(value)
    except yaml.YAMLError:
        back = value
    if quoted or not value or back is None or isinstance(back, (bool, int, float, date)):
        return _double(value)  # "12345", "2020-09-15": quoted so YAML keeps them strings
    dumped = yaml.safe_dump(value, allow_unicode=True, width=1_000_000).removesuffix("\n...\n").rstrip("\n")
    return dumped if "\n" not in dumped and not dumped.startswith('"') else _double(value)


def _is_plain(value: Any) -> bool:
    """Whether a locator cell is a plain positive integer, to be written unquoted."""
    return isinstance(value, int) or (isinstance(value, str) and value.isascii() and value.isdigit())


def _double(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def _lines(data: dict[str, Any]) -> Iterable[str]:
    topic = data["topic"]
    yield "topic:"
    yield f"  id: {_scalar(str(topic['id']))}"
    yield f"  title: {_scalar(str(topic['title'] or ''))}"
    yield "entries:"
    for i, entry in enumerate(data["entries"]):
        if i:
            yield ""
        yield f"  - id: {_scalar(str(entry['id'] or ''))}"
        yield "    questions:"
        for question in entry["questions"]:
            yield f"      - {_scalar(question)}"
        yield f"    reply: {_scalar(entry['reply'] or '')}"
        yield "    facts:"
        for fact in entry["facts"]:
            lead = "      - "
            for name in FACT_FIELDS:
                if name in fact:
                    value = fact[name]
                    plain = name == "at" and _is_plain(value)  # a locator is an integer; other text stays a string
                    yield f"{lead}{name}: {value if plain else _scalar(str(value), quoted=name == 'as_of')}"
                    lead = "        "
        if entry.get("related"):
            yield f"    related: [{', '.join(_scalar(r) for r in entry['related'])}]"


def dump_topic(data: dict[str, Any]) -> str:
    """Return a topic file's text in the style of the hand-written files."""
    return "\n".join(_lines(data)) + "\n"


def topic_data(topic: Topic, entries: Iterable[Entry]) -> dict[str, Any]:
    """Return a loaded topic as the plain data a topic file holds."""

    def fact(f: Fact) -> dict[str, Any]:
        out: dict[str, Any] = {"figure": f.figure, "kind": f.kind.value, "measures": f.measures}
        if f.as_of is not None:
            out["as_of"] = f.as_of
        out |= {"source": f.source.id, "at": f.at}
        return out

    return {
        "topic": {"id": topic.id, "title": topic.title},
        "entries": [
            {
                "id": e.id,
                "questions": list(e.questions),
                "reply": e.reply,
                "facts": [fact(f) for f in e.facts],
                **({"related": list(e.related)} if e.related else {}),
            }
            for e in entries
        ],
    }
