"""The matcher and the one combination: features per candidate, contributions that add up, a checked config."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from intents import Engine, scoring
from intents.features import MISMATCH_KINDS, Features
from intents.scoring import ScoringConfigError, contributions, default_scoring, load_scoring, score


def test_contributions_add_up_to_the_score() -> None:
    weights = default_scoring().weights
    feats = Features(coverage=0.8, overlap=0.4, char_similarity=0.6, year_mismatch=1, unit_mismatch=1)
    parts = contributions(feats, weights)
    assert sum(p.points for p in parts) == pytest.approx(score(feats, weights))
    assert [p.feature for p in parts if p.points < 0] == ["year_mismatch", "unit_mismatch"]


@pytest.mark.parametrize("kind", MISMATCH_KINDS)
def test_every_mismatch_kind_lowers_the_score(kind: str) -> None:
    weights = default_scoring().weights
    clean = Features(coverage=0.9, overlap=0.5, char_similarity=0.5)
    assert score(replace(clean, **{kind: 1}), weights) < score(clean, weights)


def test_candidates_carry_their_features_and_the_score_is_their_combination(engine: Engine) -> None:
    (best, *_) = engine.rank("企业开办要几天")
    assert best.intent and best.features.coverage > 0.9
    assert best.score == pytest.approx(score(best.features, engine.scoring.weights), abs=0.01)


@pytest.mark.parametrize(
    ("question", "kind"),
    [("2025年企业开办要几天", "year_mismatch"), ("包头企业开办要几天", "place_mismatch")],
)
def test_a_question_naming_another_year_or_place_shows_that_mismatch(engine: Engine, question: str, kind: str) -> None:
    plain = next(c for c in engine.rank("企业开办要几天", limit=10) if c.intent == "business_registration_time")
    (scoped,) = [c for c in engine.rank(question, limit=10) if c.intent == plain.intent]
    assert getattr(scoped.features, kind) == 1 and scoped.score < plain.score


def test_the_confidence_is_high_for_a_known_question_and_low_for_a_near_miss(engine: Engine) -> None:
    assert engine.ask("企业开办要几天").confidence > 0.9
    assert engine.ask("包头企业开办要几天").confidence < 0.5
    assert engine.ask("怎么办理护照").confidence < 0.5


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "scoring.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_the_scoring_config_fails_fast_naming_file_and_field(tmp_path: Path) -> None:
    good = json.loads(scoring.SCORING_FILE.read_text(encoding="utf-8"))
    assert load_scoring(_write(tmp_path, good)) == default_scoring()
    broken = {**good, "weights": {**good["weights"], "overlap": "half"}}
    with pytest.raises(ScoringConfigError, match=r"scoring\.json: `weights\.overlap` must be a number"):
        load_scoring(_write(tmp_path, broken))
    missing = {**good, "calibration": {k: v for k, v in good["calibration"].items() if k != "bias"}}
    with pytest.raises(ScoringConfigError, match=r"`calibration\.bias`"):
        load_scoring(_write(tmp_path, missing))
    out_of_range = {**good, "weights": {**good["weights"], "unit_mismatch": 2}}
    with pytest.raises(ScoringConfigError, match=r"`weights\.unit_mismatch` must be between 0 and 1"):
        load_scoring(_write(tmp_path, out_of_range))
    with pytest.raises(ScoringConfigError, match="cannot read"):
        load_scoring(tmp_path / "absent.json")
