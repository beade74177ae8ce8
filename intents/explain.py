"""Why a question got its reply: the analysis, the top candidates feature by feature, the decision and its reason.

The same value serves `python -m bot explain` and the admin console's test view; `to_dict` is its JSON shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from intents.scoring import Contribution


@dataclass(frozen=True, slots=True)
class CandidateExplanation:
    """One ranked intent: its score and each feature's value and points."""

    intent: str
    question: str
    """The entry's first example question (what a suggestion would show)."""
    example: str
    """The nearest example question, the one the closeness features compare with."""
    score: float
    coverage: float
    """Coverage after the mismatch factors: the decision's eligibility test uses it."""
    contributions: tuple[Contribution, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape of this candidate."""
        return {
            "intent": self.intent,
            "question": self.question,
            "example": self.example,
            "score": round(self.score, 2),
            "coverage": round(self.coverage, 4),
            "features": [
                {"feature": c.feature, "value": round(c.value, 4), "points": round(c.points, 2)}
                for c in self.contributions
            ],
        }


@dataclass(frozen=True, slots=True)
class Explanation:
    """Everything the engine did with one question."""

    question: str
    normalized: str
    corrected: str
    """The normalised text after homophone typo repair (equal to `normalized` when nothing was repaired)."""
    tokens: tuple[tuple[str, float], ...]
    """Content tokens with their weights, in question order."""
    synonyms: tuple[tuple[str, str], ...]
    """(word as written, canonical term) for each synonym mapping applied."""
    units: tuple[str, ...]
    """The measure words the question asks a count in."""
    candidates: tuple[CandidateExplanation, ...]
    outcome: str
    intent: str | None
    confidence: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape (stable key order, plain types) shared by the CLI and the admin console."""
        return {
            "question": self.question,
            "normalized": self.normalized,
            "corrected": self.corrected,
            "tokens": [{"token": t, "weight": round(w, 3)} for t, w in self.tokens],
            "synonyms": [{"written": a, "canonical": b} for a, b in self.synonyms],
            "units": list(self.units),
            "candidates": [c.to_dict() for c in self.candidates],
            "decision": {
                "outcome": self.outcome,
                "intent": self.intent,
                "confidence": round(self.confidence, 4),
                "reason": self.reason,
            },
        }

    def to_text(self) -> str:
        """Return a plain-text report for a terminal."""
        lines = [f"question:   {self.question}", f"normalised: {self.normalized}"]
        if self.corrected != self.normalized:
            lines.append(f"typo fixed: {self.corrected}")
        lines.append("tokens:     " + " ".join(f"{t}({w:.2f})" for t, w in self.tokens))
        if self.synonyms:
            lines.append("synonyms:   " + ", ".join(f"{a}→{b}" for a, b in self.synonyms))
        if self.units:
            lines.append("asks a count in: " + ", ".join(self.units))
        for rank, c in enumerate(self.candidates, 1):
            lines.append(f"{rank}. {c.intent}  score {c.score:.1f}  coverage {c.coverage:.2f}  nearest: {c.example}")
            lines.extend(f"     {p.feature:<16} {p.value:7.3f}  {p.points:+7.2f}" for p in c.contributions)
        lines.append(f"decision:   {self.outcome} {self.intent or ''}".rstrip())
        lines.append(f"confidence: {self.confidence:.3f}")
        lines.append(f"reason:     {self.reason}")
        return "\n".join(lines)
