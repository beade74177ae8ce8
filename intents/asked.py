"""What a question asks for (a duration, an amount, a list, a procedure…) and whether an entry's facts give it.

The table lives in `intents/data/asked_kinds.yaml`; loading checks it and names the file, entry and field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from knowledge.loader import YAML_LOADER
from knowledge.model import AnswerKind, Fact

ASKED_KINDS_FILE = Path(__file__).resolve().parent / "data" / "asked_kinds.yaml"


class AskedKindsError(ValueError):
    """asked_kinds.yaml is malformed."""


@dataclass(frozen=True, slots=True)
class AskedKind:
    """One kind of answer a question can ask for."""

    name: str
    pattern: re.Pattern[str]
    satisfied_by: frozenset[AnswerKind]
    missing: str
    """What the reports do not say, as the partial answer names it (所问的办理时长)."""
    not_by_figures: re.Pattern[str] | None = None
    """A fact whose figure matches this does not give the kind, whatever its own kind (a change, 同比增加21天,
    is no total)."""

    def given_by(self, facts: Iterable[Fact]) -> bool:
        """Return True when one of the facts gives this kind of answer."""
        return any(
            f.kind in self.satisfied_by and not (self.not_by_figures and self.not_by_figures.search(f.figure))
            for f in facts
        )


@dataclass(frozen=True, slots=True)
class AskedKinds:
    """The whole table, in file order."""

    kinds: tuple[AskedKind, ...]

    def detect(self, normalized: str) -> tuple[AskedKind, ...]:
        """Return the kinds a normalised question asks for."""
        return tuple(k for k in self.kinds if k.pattern.search(normalized))

    @staticmethod
    def unmet(asked: tuple[AskedKind, ...], facts: Iterable[Fact]) -> tuple[AskedKind, ...]:
        """Return the asked kinds that none of the facts gives."""
        kept = tuple(facts)
        return tuple(k for k in asked if not k.given_by(kept))


def _field(path: Path, name: str, entry: dict[str, Any], key: str, kind: type) -> Any:
    value = entry.get(key)
    if not isinstance(value, kind) or not value:
        raise AskedKindsError(f"{path}: entry `{name}`: `{key}` must be a non-empty {kind.__name__}")
    return value


def load_asked_kinds(path: Path = ASKED_KINDS_FILE) -> AskedKinds:
    """Read and check the table; AskedKindsError names the file, entry and field."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise AskedKindsError(f"{path}: cannot read ({exc})") from exc
    if not isinstance(data, dict) or not data:
        raise AskedKindsError(f"{path}: must map each asked kind to its patterns, satisfied_by and missing")
    kinds: list[AskedKind] = []
    for name, entry in data.items():
        if not isinstance(entry, dict):
            raise AskedKindsError(f"{path}: entry `{name}` must be a mapping")
        unknown = sorted(set(entry) - {"patterns", "satisfied_by", "missing", "not_by_figures"})
        if unknown:
            raise AskedKindsError(f"{path}: entry `{name}`: unknown field(s) {', '.join(map(str, unknown))}")
        patterns = _field(path, name, entry, "patterns", list)
        try:
            pattern = re.compile("|".join(f"(?:{p})" for p in map(str, patterns)))
        except re.error as exc:
            raise AskedKindsError(f"{path}: entry `{name}`: `patterns`: {exc}") from exc
        listed = entry.get("satisfied_by")
        if not isinstance(listed, list):  # empty: no fact kind gives it (the reports state no reasons)
            raise AskedKindsError(f"{path}: entry `{name}`: `satisfied_by` must be a list (empty: no fact gives it)")
        try:
            satisfied = frozenset(AnswerKind(str(k)) for k in listed)
        except ValueError as exc:
            raise AskedKindsError(f"{path}: entry `{name}`: `satisfied_by`: {exc}") from exc
        missing = _field(path, name, entry, "missing", str)
        excluding = None
        if "not_by_figures" in entry:
            try:
                excluding = re.compile(str(_field(path, name, entry, "not_by_figures", str)))
            except re.error as exc:
                raise AskedKindsError(f"{path}: entry `{name}`: `not_by_figures`: {exc}") from exc
        kinds.append(AskedKind(str(name), pattern, satisfied, missing, excluding))
    return AskedKinds(tuple(kinds))
