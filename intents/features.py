"""The named features a candidate intent is scored on: one small pure function per feature.

Each function sees only plain values (weights, token sets, an intent's vocabulary), so it can be tested alone;
the matcher gathers them into `Features`, and `intents.scoring` combines them into a score.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass

from rapidfuzz import fuzz

YEAR = re.compile(r"(?:19|20)\d\d")

Credit = Callable[[str], float]
"""How far an intent explains one question word, 0-1 (the matcher's credit for that intent)."""


@dataclass(frozen=True, slots=True)
class Features:
    """Everything a candidate is scored on; mismatches count the question's words of that kind left unexplained."""

    coverage: float = 0.0
    """0-1: the weighted share of the question's words that the intent's examples, reply or terms explain."""
    overlap: float = 0.0
    """0-1: weighted Jaccard overlap of the question's and the nearest example's words."""
    char_similarity: float = 0.0
    """0-1: character-level similarity of the question's and the nearest example's content text."""
    year_mismatch: int = 0
    """Years the question names that the intent's examples and facts never use (2022年 of a 2020 figure)."""
    place_mismatch: int = 0
    """Places other than Hohhot (包头) or long numbers the question names that the intent never mentions."""
    unit_mismatch: int = 0
    """1 when the question asks a count in a unit none of the intent's figures is in (多少人 of a percentage)."""
    detail_mismatch: int = 0
    """Practical-detail words (电话, 材料, 下载) the intent's examples never use."""
    list_mismatch: int = 0
    """List words (哪几个, 都有哪些) of a question the intent neither asks in its examples nor lists in its reply."""

    def as_dict(self) -> dict[str, float]:
        """Return the features by name, for explanations and the fitting script."""
        return {k: float(v) for k, v in asdict(self).items()}


MISMATCH_KINDS = ("year_mismatch", "place_mismatch", "unit_mismatch", "detail_mismatch", "list_mismatch")


def coverage(weights: Mapping[str, float], credit: Credit, total: float | None = None) -> float:
    """Return the weighted share of the question's words the intent explains (0 for a question with no weight;
    `total`: the question's summed weight, when the caller has it)."""
    if total is None:
        total = sum(weights.values())
    if not total:
        return 0.0
    return sum([w * credit(t) for t, w in weights.items()]) / total


def overlap(
    weights: Mapping[str, float], example_tokens: frozenset[str], example_weight: float, total: float | None = None
) -> float:
    """Return the weighted Jaccard overlap of the question's words and one example's words (`total`: the question's
    summed weight, when the caller has it)."""
    shared = sum([weights[t] for t in sorted(example_tokens.intersection(weights))])
    union = (sum(weights.values()) if total is None else total) + example_weight - shared
    return shared / union if union else 0.0


def char_similarity(key: str, example_key: str) -> float:
    """Return 0-1 character similarity (normalised Indel) of two content strings."""
    return fuzz.ratio(key, example_key) / 100.0


def year_mismatch(years: Collection[str], vocab: Mapping[str, float]) -> int:
    """Count the question's years that the intent's examples and terms never use (a reply's report year does not
    count: it says when, not what)."""
    return sum(1 for y in years if vocab.get(y, 0.0) < 1.0)


def place_mismatch(constraints: Collection[str], credit: Credit) -> int:
    """Count the places and long numbers the question names that the intent does not mention anywhere."""
    return sum(1 for c in constraints if credit(c) == 0.0)


def unit_mismatch(asked: Collection[str], given: Collection[str]) -> int:
    """Return 1 when the question asks a count in a unit (人, 家, 天) that none of the intent's figures is in."""
    return int(bool(asked) and not set(asked) <= set(given))


def detail_mismatch(details: Collection[str], vocab: Mapping[str, float]) -> int:
    """Count the practical-detail words the intent's examples never use: the intent does not give that detail."""
    return sum(1 for d in details if vocab.get(d, 0.0) < 1.0)


def list_mismatch(list_words: Collection[str], vocab: Mapping[str, float], reply_lists: bool) -> int:
    """Count the list words of a question the intent neither asks in its examples nor answers with a list."""
    if reply_lists:
        return 0
    return sum(1 for w in list_words if vocab.get(w, 0.0) < 1.0)
