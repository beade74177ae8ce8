"""Answer quality on the shared development questions and our own sets, against the issue's floors (and the near-miss
set's measured level)."""

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


NEAR = ROOT / "tests" / "data" / "tuning-nearmiss.tsv"


def test_near_misses_keep_their_measured_level(engine: Engine) -> None:
    """The near-miss tuning set (a helper's, 2026-12-08) is still below the issue's floors: fallback 64.5% and
    confidently wrong 21.7% when it arrived, 85.1% and 9.4% after the itemised, reason and opinion kinds and the
    district and period scopes. This holds that level so that no change slides back."""
    report = evaluate(engine, load_cases(NEAR))
    assert report.in_scope_accuracy >= 0.93, _misses(report.misses)
    assert report.oos_fallback_rate >= 0.85, _misses(report.misses)
    assert report.confidently_wrong_rate <= 0.095, _misses([r for r in report.results if r.confidently_wrong])
