"""Group questions that ask the same thing, by the engine's own analysis (for curators' reports)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from intents.analyzer import Analyzer

SAME_QUESTION = 72.0
"""Token-set similarity (0-100) of two analysed questions above which they are one group."""
MAX_EXAMPLES = 3


@dataclass(frozen=True, slots=True)
class QuestionGroup:
    """Questions that ask the same thing: the most frequent wording, how many were asked, a few others."""

    question: str
    count: int
    examples: tuple[str, ...]


def group_questions(
    analyzer: Analyzer, questions: Iterable[str], *, threshold: float = SAME_QUESTION
) -> list[QuestionGroup]:
    """Return the groups, largest first (ties: first asked first). Deterministic for the same input."""
    counts = Counter(q for q in questions if q.strip())
    keyed: list[tuple[str, str, int]] = []  # (question, analysed key, times asked), most asked first
    for question, times in sorted(counts.items(), key=lambda item: -item[1]):
        analysis = analyzer.analyze(question)
        keyed.append((question, " ".join(analysis.tokens) or analysis.normalized, times))
    groups: list[tuple[str, list[tuple[str, int]]]] = []  # (leader key, members)
    for question, key, times in keyed:
        for leader, members in groups:
            if key == leader or (key and leader and fuzz.token_set_ratio(key, leader) >= threshold):
                members.append((question, times))
                break
        else:
            groups.append((key, [(question, times)]))
    out = [
        QuestionGroup(
            question=members[0][0],
            count=sum(t for _, t in members),
            examples=tuple(q for q, _ in members[1 : MAX_EXAMPLES + 1]),
        )
        for _, members in groups
    ]
    return sorted(out, key=lambda g: -g.count)
