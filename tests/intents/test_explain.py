"""`Engine.explain` and `python -m bot explain`: the same decision as `ask`, with the reasons a reader can check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from intents import Engine, Outcome
from intents.evaluation import load_cases

ROOT = Path(__file__).resolve().parents[2]


def test_explain_agrees_with_ask_on_every_tuning_question(engine: Engine) -> None:
    for case in load_cases(ROOT / "tests" / "data" / "holdout-questions.tsv")[::4]:
        answer = engine.ask(case.question)
        explanation = engine.explain(case.question)
        assert (explanation.outcome, explanation.intent) == (str(answer.outcome), answer.intent), case.question
        assert explanation.confidence == answer.confidence
        assert explanation.reason


def test_the_analysis_shows_typo_repair_synonyms_and_weights(engine: Engine) -> None:
    explanation = engine.explain("企业开半要几天")
    assert explanation.corrected == "企业开办要几天" != explanation.normalized
    assert ("要几天", "多久") in explanation.synonyms
    assert dict(explanation.tokens)["企业开办"] == 1.0 and explanation.units == ("天",)


def test_each_candidates_contributions_add_up_to_its_score(engine: Engine) -> None:
    explanation = engine.explain("包头企业开办要几天")
    assert explanation.outcome == Outcome.FALLBACK
    for candidate in explanation.candidates:
        assert sum(c.points for c in candidate.contributions) == pytest.approx(candidate.score, abs=0.01)
    top = explanation.candidates[0]
    assert top.intent == "business_registration_time"
    assert any(c.feature == "place_mismatch" and c.points < 0 for c in top.contributions)
    assert "explains" in explanation.reason


def test_a_near_tie_explains_the_lead(engine: Engine) -> None:
    explanation = engine.explain("企业")
    assert explanation.outcome == Outcome.SUGGEST and "leads" in explanation.reason


def test_empty_and_bare_questions_are_explained_too(engine: Engine) -> None:
    assert engine.explain("").outcome == Outcome.EMPTY
    bare = engine.explain("多少")
    assert bare.outcome == Outcome.FALLBACK and bare.candidates == () and "question words" in bare.reason


def test_the_json_is_plain_and_the_same_whatever_the_hash_seed(tmp_path: Path) -> None:
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "JIEBA_CACHE_DIR": str(tmp_path / seed)}
        done = subprocess.run(
            [sys.executable, "-m", "bot", "explain", "--json", "企业开办要几天"],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    data = json.loads(outputs[0])
    assert data["decision"]["outcome"] == "answer" and data["decision"]["intent"] == "business_registration_time"
    assert {f["feature"] for f in data["candidates"][0]["features"]} >= {"coverage", "overlap", "char_similarity"}


def test_the_text_report_names_the_decision(engine: Engine) -> None:
    text = engine.explain("企业开办要几天").to_text()
    assert "business_registration_time" in text and "reason:" in text and "coverage" in text
