"""The one combination of the named features into a score, and the score's calibration into a confidence.

Every weight lives in `intents/data/scoring.json`, written by `scripts/fit_scoring.py` (cross-validated on the
tuning sets; see its docstring). Loading checks every field and names the file and the field when one is wrong.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from intents.features import MISMATCH_KINDS, Features

SCORING_FILE = Path(__file__).resolve().parent / "data" / "scoring.json"


class ScoringConfigError(ValueError):
    """scoring.json is missing a field or holds a value out of range."""


@dataclass(frozen=True, slots=True)
class Weights:
    """How the features combine: score = 100 × (share × coverage × Π factor^mismatches + (1 − share) × closeness)."""

    coverage_share: float
    """Share of the score given to coverage; the rest goes to closeness to the nearest example."""
    overlap: float
    """Closeness = overlap × this + char_similarity × its own weight."""
    char_similarity: float
    year_mismatch: float
    """Coverage factor per year the intent never uses (and so on for each mismatch kind)."""
    place_mismatch: float
    unit_mismatch: float
    detail_mismatch: float
    list_mismatch: float


@dataclass(frozen=True, slots=True)
class Calibration:
    """confidence = σ(score_weight × score/100 + gap_weight × gap/100 + coverage_weight × coverage + bias)."""

    score_weight: float
    gap_weight: float
    coverage_weight: float
    bias: float

    def confidence(self, score: float, gap: float, coverage: float) -> float:
        """Return the estimated probability (0-1) that answering the top candidate is right."""
        z = self.score_weight * score / 100.0 + self.gap_weight * gap / 100.0 + self.coverage_weight * coverage
        z += self.bias
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass(frozen=True, slots=True)
class Contribution:
    """One feature's value and the points it adds to (or, for a mismatch, takes from) the score."""

    feature: str
    value: float
    points: float


@dataclass(frozen=True, slots=True)
class Scoring:
    """The weights and the calibration, as one configuration."""

    weights: Weights
    calibration: Calibration


def mismatch_factor(features: Features, weights: Weights) -> float:
    """Return the product of each mismatch kind's factor raised to its count."""
    factor = 1.0
    for kind in MISMATCH_KINDS:
        count = getattr(features, kind)
        if count:
            factor *= getattr(weights, kind) ** count
    return factor


def adjusted_coverage(features: Features, weights: Weights) -> float:
    """Return coverage after each mismatch's factor: the share of the question the intent really answers."""
    return features.coverage * mismatch_factor(features, weights)


def closeness(overlap: float, char_similarity: float, weights: Weights) -> float:
    """Return 0-1 closeness to the nearest example."""
    return weights.overlap * overlap + weights.char_similarity * char_similarity


def score(features: Features, weights: Weights) -> float:
    """Return the 0-100 score of a candidate."""
    near = closeness(features.overlap, features.char_similarity, weights)
    return 100.0 * (weights.coverage_share * adjusted_coverage(features, weights) + (1 - weights.coverage_share) * near)


def contributions(features: Features, weights: Weights) -> tuple[Contribution, ...]:
    """Return each feature's points; they sum to `score(features, weights)` (mismatches are negative)."""
    share = 100.0 * weights.coverage_share
    rest = 100.0 * (1 - weights.coverage_share)
    chars = features.char_similarity
    parts = [
        Contribution("coverage", features.coverage, share * features.coverage),
        Contribution("overlap", features.overlap, rest * weights.overlap * features.overlap),
        Contribution("char_similarity", features.char_similarity, rest * weights.char_similarity * chars),
    ]
    remaining = features.coverage
    for kind in MISMATCH_KINDS:
        count = getattr(features, kind)
        if count:
            after = remaining * getattr(weights, kind) ** count
            parts.append(Contribution(kind, float(count), share * (after - remaining)))
            remaining = after
    return tuple(parts)


def _section(data: dict[str, Any], name: str, cls: type[Any], path: Path) -> Any:
    section = data.get(name)
    if not isinstance(section, dict):
        raise ScoringConfigError(f"{path}: `{name}` must be a mapping")
    values: dict[str, float] = {}
    for f in fields(cls):
        value = section.get(f.name)
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            raise ScoringConfigError(f"{path}: `{name}.{f.name}` must be a number, not {value!r}")
        values[f.name] = float(value)
    unknown = sorted(set(section) - set(values))
    if unknown:
        raise ScoringConfigError(f"{path}: `{name}` has unknown field(s) {', '.join(unknown)}")
    return cls(**values)


@functools.cache
def default_scoring() -> Scoring:
    """Return the packaged scoring configuration (read once per process)."""
    return load_scoring(SCORING_FILE)


def load_scoring(path: Path = SCORING_FILE) -> Scoring:
    """Read and check the scoring configuration; ScoringConfigError names the file and field."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ScoringConfigError(f"{path}: cannot read ({exc})") from exc
    if not isinstance(data, dict):
        raise ScoringConfigError(f"{path}: must be a JSON object")
    weights: Weights = _section(data, "weights", Weights, path)
    for f in fields(Weights):
        value = getattr(weights, f.name)
        if not 0.0 <= value <= 1.0:
            raise ScoringConfigError(f"{path}: `weights.{f.name}` must be between 0 and 1, not {value}")
    return Scoring(weights=weights, calibration=_section(data, "calibration", Calibration, path))
