"""Score the engine on a question set: in-scope accuracy, out-of-scope fallback, confidently wrong answers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from intents.engine import Answer, Engine, Outcome

OOS = "OOS"


class EvalFileError(ValueError):
    """A question file line is not `question<TAB>figures` or `question<TAB>OOS`."""


@dataclass(frozen=True, slots=True)
class Case:
    """One evaluation question and what a right reply contains."""

    question: str
    figures: tuple[str, ...]
    """Acceptable figures (one must appear in the reply); empty when the question is out of scope."""
    line: int

    @property
    def in_scope(self) -> bool:
        """Return True when the knowledge base should answer this question."""
        return bool(self.figures)


@dataclass(frozen=True, slots=True)
class Result:
    """How the engine did on one case."""

    case: Case
    answer: Answer

    @property
    def correct(self) -> bool:
        """Return True for a cited reply with a right figure, or a fallback on an out-of-scope question."""
        if not self.case.in_scope:
            return not self.answered
        text = self.answer.text
        return self.answered and bool(self.answer.sources) and any(f in text for f in self.case.figures)

    @property
    def confidently_wrong(self) -> bool:
        """Return True when the engine answered but the answer is wrong (worse than falling back)."""
        return self.answered and not self.correct

    @property
    def answered(self) -> bool:
        """Return True when the engine gave an answer (not a fallback, suggestions or a prompt to ask)."""
        return self.answer.outcome is Outcome.ANSWER


@dataclass(slots=True)
class Report:
    """Aggregate figures over a case set."""

    results: list[Result] = field(default_factory=list)

    def _rate(self, hits: int, total: int) -> float:
        return hits / total if total else 1.0

    @property
    def in_scope(self) -> list[Result]:
        """Return the results of questions the knowledge base should answer."""
        return [r for r in self.results if r.case.in_scope]

    @property
    def out_of_scope(self) -> list[Result]:
        """Return the results of questions that must fall back."""
        return [r for r in self.results if not r.case.in_scope]

    @property
    def in_scope_accuracy(self) -> float:
        """Return the share of in-scope questions answered with a right, cited figure."""
        return self._rate(sum(r.correct for r in self.in_scope), len(self.in_scope))

    @property
    def oos_fallback_rate(self) -> float:
        """Return the share of out-of-scope questions that fell back."""
        return self._rate(sum(r.correct for r in self.out_of_scope), len(self.out_of_scope))

    @property
    def confidently_wrong_rate(self) -> float:
        """Return the share of all questions answered wrongly instead of falling back."""
        return self._rate(sum(r.confidently_wrong for r in self.results), len(self.results))

    @property
    def misses(self) -> list[Result]:
        """Return every result that was not correct, in file order."""
        return [r for r in self.results if not r.correct]


def parse_cases(lines: Iterable[str], name: str = "<input>") -> list[Case]:
    """Parse `question<TAB>fig1|fig2` or `question<TAB>OOS` lines; `#` starts a comment line."""
    cases: list[Case] = []
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        question, sep, expected = line.partition("\t")
        expected = expected.strip()
        if not sep or not question.strip() or not expected:
            raise EvalFileError(f"{name}:{number}: expected 'question<TAB>figures' or 'question<TAB>OOS'")
        figures = () if expected == OOS else tuple(f.strip() for f in expected.split("|") if f.strip())
        cases.append(Case(question=question.strip(), figures=figures, line=number))
    return cases


def load_cases(path: Path) -> list[Case]:
    """Read an evaluation file in the dev-questions.tsv format."""
    with path.open(encoding="utf-8") as f:
        return parse_cases(f, str(path))


def evaluate(engine: Engine, cases: Iterable[Case]) -> Report:
    """Ask the engine every case and collect the results."""
    return Report([Result(case, engine.ask(case.question)) for case in cases])
