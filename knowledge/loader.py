"""Load the YAML knowledge base and validate it, failing fast with errors that name file, entry and field."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from knowledge.model import AnswerKind, Entry, Fact, Fallback, KnowledgeBase, Source, Topic

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
MIN_QUESTIONS = 5
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_SOURCE_ID_RE = re.compile(r"^[a-z][a-z0-9-]*$")
_CJK_GAP = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]\s+[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")

# Words in a report's sentence that date what it says: a year, "this year", "as of", "at present", a day.
_YEAR = re.compile(r"(?<![较比])((?:19|20)\d\d)年")  # "较2018年" is a baseline, not a date
_RELATIVE_DATE = re.compile(r"今年|目前|截至|\d{1,2}月\d{1,2}日|\d{1,2}月(?:末|底)")
_LAST_YEAR = "去年"
# "2020年9月报道时为…", "此前的2020年…": the reply gives an older figure as the history of a newer one.
_HISTORY = re.compile(r"(?:19|20)\d\d年(?:\d{1,2}月)?报道时|此前的?(?:19|20)\d\d年")
_NUMERIC_KINDS = frozenset(
    {AnswerKind.DURATION, AnswerKind.COUNT, AnswerKind.AMOUNT, AnswerKind.PERCENTAGE, AnswerKind.RANK}
)
_NOTE = re.compile(r"（[^）]*）")
_KINDS = ", ".join(k.value for k in AnswerKind)
_FACT_FIELDS = {"figure", "kind", "measures", "as_of", "source", "at"}

# The C loader is several times faster; fall back where PyYAML was built without libyaml.
YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation error, located by file, entry and field."""

    file: str
    entry: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.entry:
            where += f": entry {self.entry!r}"
        if self.field:
            where += f": field {self.field!r}"
        return f"{where}: {self.message}"


class KnowledgeBaseError(Exception):
    """The knowledge base did not validate; `problems` lists every error found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"knowledge base has {len(problems)} error(s):\n{lines}")


class _Collector:
    """Accumulate problems so one run reports all of them, not just the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file: str, entry: str | None, field: str | None, message: str) -> None:
        self.problems.append(Problem(file, entry, field, message))


def _read_yaml(path: Path, errors: _Collector) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        errors.add(path.name, None, None, f"cannot read file: {exc}")
        return None
    try:
        data = yaml.load(text, Loader=YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        errors.add(path.name, None, None, f"invalid YAML{at}: {problem}")
        return None
    if data is None:
        # An empty file would silently remove a topic (or every source); it is always a mistake.
        errors.add(path.name, None, None, "is empty (nothing but blank lines or comments)")
    return data


def _text(
    value: Any, file: str, entry: str | None, field: str, errors: _Collector, *, optional: bool = False
) -> str | None:
    if value is None and optional:
        return None
    if value is not None and not isinstance(value, str) and isinstance(value, (int, float, date)):
        # YAML reads 2020-09-15 as a date and 0.50 as 0.5: a verbatim figure must be quoted to survive.
        errors.add(file, entry, field, f"must be a quoted string (YAML read {value!r} as a {type(value).__name__})")
        return None
    if not isinstance(value, str) or not value.strip():
        errors.add(file, entry, field, "must be a non-empty string")
        return None
    return value.strip()


def _kind(value: Any, file: str, entry: str, field: str, errors: _Collector) -> AnswerKind | None:
    if value is None:
        errors.add(file, entry, field, f"is missing: one of {_KINDS}")
        return None
    try:
        return AnswerKind(value)
    except ValueError:
        errors.add(file, entry, field, f"unknown kind {value!r}: must be one of {_KINDS}")
        return None


def quote_years(quote: str, source: Source) -> set[int]:
    """Return the years a quoted sentence dates its content to ("今年" and "截至6月5日" mean the report's year)."""
    years = {int(y) for y in _YEAR.findall(quote)}
    report_year = int(source.date[:4])
    if _RELATIVE_DATE.search(quote):
        years.add(report_year)
    if _LAST_YEAR in quote:
        years.update((report_year - 1, report_year))
    return years


def dating_problem(context: str, as_of: str | None, source: Source) -> str | None:
    """Return what is wrong with a fact's as_of given the report's words around its figure, or None."""
    years = quote_years(context, source)
    if not years:
        return None
    named = "、".join(f"{y}年" for y in sorted(years))
    if as_of is None:
        return f"is missing: the report's sentence dates the figure ({named})"
    if not as_of[:4].isdigit() or int(as_of[:4]) not in years:
        return f"{as_of!r} is not a year the report's sentence names ({named})"
    return None


def _locator(value: Any, file: str, entry: str, field: str, errors: _Collector) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        shown = "missing" if value is None else repr(value)
        errors.add(
            file, entry, field, f"must be a positive integer: which occurrence of the figure in its report ({shown})"
        )
        return None
    return value


def _unit(figure: str) -> str:
    """Return what follows a figure's last digit, without qualifiers: "3700余项" and "807项" are both in 项."""
    tail = re.split(r"\d", figure)[-1]
    return tail.strip("余多内以上左右")


def history_pairs(reply: str, facts: tuple[Fact, ...]) -> Iterator[tuple[Fact, Fact]]:
    """Yield (older, newer) pairs of figures of the same kind and unit that the reply joins as history."""
    marker = _HISTORY.search(reply)
    if marker is None:
        return
    end = reply.find("。", marker.end())
    history = reply[marker.end() : len(reply) if end < 0 else end]
    lead = reply[: marker.start()]
    for old in facts:
        if old.kind not in _NUMERIC_KINDS or old.figure not in history:
            continue
        for new in facts:
            if new.kind is old.kind and new.figure in lead and _unit(new.figure) == _unit(old.figure):
                yield old, new


def _check_history(reply: str, facts: tuple[Fact, ...], file: str, entry: str, errors: _Collector) -> None:
    pairs: dict[Fact, list[Fact]] = {}
    for old, new in history_pairs(reply, facts):
        pairs.setdefault(old, []).append(new)
    for old, newer in pairs.items():
        if not any(_NOTE.sub("", old.measures) == _NOTE.sub("", new.measures) for new in newer):
            errors.add(
                file,
                entry,
                f"facts[{facts.index(old)}].measures",
                f"the reply gives {old.figure!r} ({old.measures}) as the earlier value of "
                f"{newer[0].figure!r} ({newer[0].measures}): history must measure the same thing",
            )


def _identified(
    items: list[Any],
    file: str,
    id_rule: tuple[re.Pattern[str], str],
    duplicate: Callable[[str], str | None],
    errors: _Collector,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (id, item) for each mapping with a well-formed, new id; report the others by position or id."""
    pattern, rule = id_rule
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            errors.add(file, f"#{i + 1}", None, "must be a mapping")
            continue
        raw = item.get("id")
        if not isinstance(raw, str) or not pattern.match(raw):
            errors.add(file, raw if isinstance(raw, str) else f"#{i + 1}", "id", rule)
            continue
        problem = duplicate(raw)
        if problem:
            errors.add(file, raw, "id", problem)
            continue
        yield raw, item


def _load_sources(path: Path, errors: _Collector) -> dict[str, Source]:
    data = _read_yaml(path, errors)
    if data is None:
        if path.exists():
            return {}
        errors.add(path.name, None, None, "file is missing")
        return {}
    items = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        errors.add(path.name, None, "sources", "must be a non-empty list")
        return {}
    sources: dict[str, Source] = {}
    ids = _SOURCE_ID_RE, "must be lower-case letters, digits and hyphens"

    def duplicate(sid: str) -> str | None:
        return "duplicate source id" if sid in sources else None

    for name, item in _identified(items, path.name, ids, duplicate, errors):
        file = _text(item.get("file"), path.name, name, "file", errors)
        title = _text(item.get("title"), path.name, name, "title", errors, optional=True)
        publisher = _text(item.get("publisher"), path.name, name, "publisher", errors, optional=True)
        date = _text(str(item["date"]) if item.get("date") is not None else None, path.name, name, "date", errors)
        label = _text(item.get("label"), path.name, name, "label", errors)
        if file and date and label:
            sources[name] = Source(id=name, file=file, title=title, publisher=publisher, date=date, label=label)
    return sources


def _load_facts(
    raw: Any, reply: str | None, file: str, entry: str, sources: dict[str, Source], errors: _Collector
) -> tuple[Fact, ...]:
    if not isinstance(raw, list) or not raw:
        errors.add(file, entry, "facts", "must be a non-empty list of cited facts")
        return ()
    facts: list[Fact] = []
    for j, item in enumerate(raw):
        where = f"facts[{j}]"
        if not isinstance(item, dict):
            errors.add(file, entry, where, "must be a mapping with figure, kind, measures, source and at")
            continue
        figure = _text(item.get("figure"), file, entry, f"{where}.figure", errors)
        kind = _kind(item.get("kind"), file, entry, f"{where}.kind", errors)
        measures = _text(item.get("measures"), file, entry, f"{where}.measures", errors)
        as_of_raw = item.get("as_of")
        as_of = _text(
            str(as_of_raw) if as_of_raw is not None else None, file, entry, f"{where}.as_of", errors, optional=True
        )
        sid = item.get("source")
        source = sources.get(sid) if isinstance(sid, str) else None
        if source is None and sources:  # with no sources at all, sources.yaml's own error says it all
            errors.add(file, entry, f"{where}.source", f"unknown source id {sid!r}")
        at = _locator(item.get("at"), file, entry, f"{where}.at", errors)
        if figure and reply and figure not in reply:
            errors.add(file, entry, f"{where}.figure", f"figure {figure!r} does not appear in the reply")
        unknown = set(item) - _FACT_FIELDS
        if unknown:
            errors.add(file, entry, where, f"unknown field(s): {', '.join(sorted(unknown))}")
        if figure and kind and measures and source and at:
            facts.append(Fact(figure=figure, kind=kind, measures=measures, source=source, at=at, as_of=as_of))
    return tuple(facts)


def _load_topic(
    path: Path,
    sources: dict[str, Source],
    entries: dict[str, Entry],
    entry_files: dict[str, str],
    errors: _Collector,
) -> Topic | None:
    data = _read_yaml(path, errors)
    if data is None:
        return None
    if not isinstance(data, dict):
        errors.add(path.name, None, None, "must be a mapping with 'topic' and 'entries'")
        return None
    topic_raw = data.get("topic")
    if not isinstance(topic_raw, dict):
        errors.add(path.name, None, "topic", "must be a mapping with id and title")
        return None
    topic_id = topic_raw.get("id")
    if not isinstance(topic_id, str) or not _ID_RE.match(topic_id):
        errors.add(path.name, None, "topic.id", "must be snake_case")
        return None
    title = _text(topic_raw.get("title"), path.name, None, "topic.title", errors)
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        errors.add(path.name, None, "entries", "must be a non-empty list")
        return None
    ids: list[str] = []

    def duplicate(eid: str) -> str | None:
        return f"duplicate id (first defined in {entry_files[eid]})" if eid in entry_files else None

    for eid, item in _identified(raw_entries, path.name, (_ID_RE, "must be snake_case"), duplicate, errors):
        entry_files[eid] = path.name
        questions_raw = item.get("questions")
        questions: list[str] = []
        if not isinstance(questions_raw, list):
            errors.add(path.name, eid, "questions", "must be a list of strings")
        else:
            for k, q in enumerate(questions_raw):
                text = _text(q, path.name, eid, f"questions[{k}]", errors)
                if text:
                    questions.append(text)
            if len(questions) < MIN_QUESTIONS:
                errors.add(
                    path.name,
                    eid,
                    "questions",
                    f"needs at least {MIN_QUESTIONS} example questions, has {len(questions)}",
                )
        reply = _text(item.get("reply"), path.name, eid, "reply", errors)
        if reply and _CJK_GAP.search(reply):
            errors.add(path.name, eid, "reply", "has a space between Chinese characters (a folded YAML line?)")
        facts = _load_facts(item.get("facts"), reply, path.name, eid, sources, errors)
        if reply and facts:
            _check_history(reply, facts, path.name, eid, errors)
        related_raw = item.get("related", [])
        if not isinstance(related_raw, list) or not all(isinstance(r, str) for r in related_raw):
            errors.add(path.name, eid, "related", "must be a list of entry ids")
            related_raw = []
        unknown = set(item) - {"id", "questions", "reply", "facts", "related"}
        if unknown:
            errors.add(path.name, eid, None, f"unknown field(s): {', '.join(sorted(unknown))}")
        if reply and facts and len(questions) >= MIN_QUESTIONS:
            entries[eid] = Entry(
                id=eid,
                topic_id=topic_id,
                questions=tuple(questions),
                reply=reply,
                facts=facts,
                related=tuple(related_raw),
            )
            ids.append(eid)
    if not title:
        return None
    return Topic(id=topic_id, title=title, entry_ids=tuple(ids))


def _load_fallback(path: Path, sources: dict[str, Source], errors: _Collector) -> Fallback | None:
    data = _read_yaml(path, errors)
    if data is None:
        if not path.exists():
            errors.add(path.name, None, None, "file is missing")
        return None
    if not isinstance(data, dict):
        errors.add(path.name, None, None, "must be a mapping with reply and facts")
        return None
    reply = _text(data.get("reply"), path.name, "fallback", "reply", errors)
    facts = _load_facts(data.get("facts"), reply, path.name, "fallback", sources, errors)
    if reply and facts:
        return Fallback(reply=reply, facts=facts)
    return None


def check_knowledge_base(data_dir: Path = DATA_DIR) -> tuple[KnowledgeBase | None, list[Problem]]:
    """Load and validate every file, returning the knowledge base (if valid) and every problem found."""
    errors = _Collector()
    sources = _load_sources(data_dir / "sources.yaml", errors)
    entries: dict[str, Entry] = {}
    entry_files: dict[str, str] = {}
    topics: list[Topic] = []
    topic_paths = sorted((data_dir / "topics").glob("*.yaml"))
    if not topic_paths:
        errors.add("topics/", None, None, "no topic files found")
    topic_ids: set[str] = set()
    for path in topic_paths:
        topic = _load_topic(path, sources, entries, entry_files, errors)
        if topic is None:
            continue
        if topic.id in topic_ids:
            errors.add(path.name, None, "topic.id", f"duplicate topic id {topic.id!r}")
            continue
        topic_ids.add(topic.id)
        topics.append(topic)
    for entry in entries.values():
        for rid in entry.related:
            if rid not in entries and rid not in entry_files:
                errors.add(entry_files[entry.id], entry.id, "related", f"unknown entry id {rid!r}")
    fallback = _load_fallback(data_dir / "fallback.yaml", sources, errors)
    if errors.problems or fallback is None:
        return None, errors.problems
    return KnowledgeBase(sources=sources, topics=tuple(topics), entries=entries, fallback=fallback), []


def load_knowledge_base(data_dir: Path = DATA_DIR) -> KnowledgeBase:
    """Load and validate the knowledge base, raising KnowledgeBaseError listing every problem."""
    kb, problems = check_knowledge_base(data_dir)
    if kb is None:
        raise KnowledgeBaseError(problems)
    logger.debug("loaded %d entries in %d topics", len(kb.entries), len(kb.topics))
    return kb
