"""Answer quality on the shared development questions and on our own larger set, against the issue's floors."""

from __future__ import annotations

from pathlib import Path

import pytest

from intents import Engine
from intents.evaluation import Result, evaluate, load_cases

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT.parent / "shared" / "eval" / "dev-questions.tsv"
OWN = ROOT / "tests" / "data" / "eval-questions.tsv"


def _misses(results: list[Result]) -> str:
    return "\n".join(f"{r.case.question} -> {r.answer.outcome} {r.answer.intent}" for r in results)


@pytest.mark.skipif(not DEV.is_file(), reason=f"{DEV} is not available")
def test_every_development_question_is_right(engine: Engine) -> None:
    report = evaluate(engine, load_cases(DEV))
    assert report.misses == [], _misses(report.misses)


def test_own_question_set_meets_the_floors(engine: Engine) -> None:
    cases = load_cases(OWN)
    assert len(cases) >= 300 and sum(not c.in_scope for c in cases) >= 60
    report = evaluate(engine, cases)
    assert report.in_scope_accuracy >= 0.97, _misses(report.misses)
    assert report.oos_fallback_rate >= 0.95, _misses(report.misses)
    assert report.confidently_wrong_rate <= 0.01, _misses([r for r in report.results if r.confidently_wrong])
