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


TUNING_LEVELS = {
    # set: (in-scope at least, out-of-scope fallback at least, confidently wrong at most), as reached
    "tuning-nearmiss.tsv": (0.93, 0.89, 0.07),
    "tuning-paraphrase.tsv": (0.93, 0.95, 0.025),
    "tuning-voices.tsv": (0.85, 0.92, 0.03),
}


@pytest.mark.parametrize("name", sorted(TUNING_LEVELS))
def test_the_helpers_tuning_sets_keep_their_measured_level(engine: Engine, name: str) -> None:
    """Three tuning sets written by helpers on 2026-12-08 are still below the issue's floors (the near misses: 64.5%
    fallback and 21.7% confidently wrong when they arrived; the paraphrases: 91.2% in scope; the voices:
    83.1%). This holds the level reached since, so that no change slides back."""
    in_scope, oos, wrong = TUNING_LEVELS[name]
    report = evaluate(engine, load_cases(ROOT / "tests" / "data" / name))
    assert report.in_scope_accuracy >= in_scope, _misses(report.misses)
    assert report.oos_fallback_rate >= oos, _misses(report.misses)
    assert report.confidently_wrong_rate <= wrong, _misses([r for r in report.results if r.confidently_wrong])
