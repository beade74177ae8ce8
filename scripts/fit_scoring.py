"""Fit the scoring weights and the confidence calibration on the tuning sets, with cross-validation.

    JIEBA_CACHE_DIR=/tmp/jieba python scripts/fit_scoring.py            # report only
    JIEBA_CACHE_DIR=/tmp/jieba python scripts/fit_scoring.py --write    # also rewrite intents/data/scoring.json

Reproducible: the folds are fixed (question number modulo 5), the search is a deterministic coordinate descent
over fixed grids, and nothing is random. The sets are all tuning sets (the team has seen them): the shared dev set,
tests/data/eval-questions.tsv, tests/data/holdout-questions.tsv (seen, so tuning too) and any
tests/data/tuning-*.tsv. Held-out figures come only from a set kept outside the project.

What is fitted:
1. The weights (intents.scoring.Weights): coordinate descent minimising the cross-validated log loss of the
   confidence that the top candidate is right (out-of-scope questions: the top is never right).
2. The calibration (intents.scoring.Calibration): logistic regression of "top is right" on the top score and its
   gap to the runner-up, fitted by Newton's method; the reported reliability table uses held-out folds only.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from intents import Engine  # noqa: E402
from intents.evaluation import load_cases  # noqa: E402
from intents.features import Features  # noqa: E402
from intents.scoring import SCORING_FILE, Calibration, Weights, adjusted_coverage, score  # noqa: E402

FOLDS = 5
MIN_COVERAGE = 0.6
GRIDS: dict[str, Sequence[float]] = {
    "coverage_share": (0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9),
    "overlap": (0.0, 0.25, 0.5, 0.75, 1.0),
    "char_similarity": (0.0, 0.25, 0.5, 0.75, 1.0),
    **{k: (0.0, 0.25, 0.5, 0.75, 1.0) for k in ("year_mismatch", "place_mismatch", "unit_mismatch")},
    **{k: (0.0, 0.25, 0.5, 0.75, 1.0) for k in ("detail_mismatch", "list_mismatch")},
}


def tuning_sets() -> list[tuple[str, Path]]:
    """Return the tuning sets that exist on this machine, by name."""
    sets = [
        ("dev", ROOT.parent / "shared" / "eval" / "dev-questions.tsv"),
        ("eval-questions", ROOT / "tests" / "data" / "eval-questions.tsv"),
        ("holdout-questions (seen)", ROOT / "tests" / "data" / "holdout-questions.tsv"),
        *((p.stem, p) for p in sorted((ROOT / "tests" / "data").glob("tuning-*.tsv"))),
    ]
    return [(name, path) for name, path in sets if path.is_file()]


@dataclass(frozen=True, slots=True)
class Item:
    """One tuning question with every shortlisted example's features and the intents that answer it right."""

    set_name: str
    number: int
    examples: tuple[tuple[str, Features], ...]
    right: frozenset[str]


def collect(engine: Engine) -> list[Item]:
    """Return every tuning question's shortlisted features, numbered in a fixed order."""
    texts = {intent: engine.answer_entry(intent).text for intent in engine.kb.entries}
    items: list[Item] = []
    for name, path in tuning_sets():
        for case in load_cases(path):
            analysis = engine.analyzer.analyze(case.question)
            right = frozenset(i for i, t in texts.items() if any(f in t for f in case.figures))
            examples = tuple(engine.matcher.example_features(analysis))
            items.append(Item(name, len(items), examples, right))
    return items


Row = tuple[int, float, float, float, int]
"""(question number, top score, gap to the runner-up, top's adjusted coverage, 1 when the top is right)."""


def top_two(item: Item, weights: Weights) -> tuple[str, float, float, float] | None:
    """Return the best intent, its score, its gap to the runner-up and its adjusted coverage, as the engine ranks."""
    best: dict[str, float] = {}
    covered: dict[str, float] = {}
    for intent, feats in item.examples:
        s = score(feats, weights)
        if s > best.get(intent, -1.0):
            best[intent] = s
        covered[intent] = adjusted_coverage(feats, weights)
    ranked = sorted((-s, i) for i, s in best.items())
    if not ranked:
        return None
    runner_up = -ranked[1][0] if len(ranked) > 1 else 0.0
    top = ranked[0][1]
    return top, -ranked[0][0], -ranked[0][0] - runner_up, covered[top]


def rows(items: Sequence[Item], weights: Weights) -> list[Row]:
    """Return one row per question with any candidate (a question with none always falls back)."""
    out: list[Row] = []
    for item in items:
        top = top_two(item, weights)
        if top is not None:
            out.append((item.number, top[1], top[2], top[3], int(top[0] in item.right)))
    return out


def _x(row: Row) -> tuple[float, float, float, float]:
    return (row[1] / 100.0, row[2] / 100.0, row[3], 1.0)


def fit_calibration(data: Sequence[Row]) -> Calibration:
    """Fit logistic regression on (score/100, gap/100, coverage) by Newton's method with a small ridge."""
    n = 4
    b = [0.0] * n
    for _ in range(40):
        grad = [0.0] * n
        hess = [[1e-3 if i == j else 0.0 for j in range(n)] for i in range(n)]
        for row in data:
            x, y = _x(row), row[4]
            z = sum(bi * xi for bi, xi in zip(b, x, strict=True))
            p = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
            for i in range(n):
                grad[i] += (p - y) * x[i]
                for j in range(n):
                    hess[i][j] += p * (1 - p) * x[i] * x[j]
        step = _solve(hess, grad)
        b = [bi - si for bi, si in zip(b, step, strict=True)]
        if max(abs(si) for si in step) < 1e-9:
            break
    return Calibration(
        score_weight=round(b[0], 4), gap_weight=round(b[1], 4), coverage_weight=round(b[2], 4), bias=round(b[3], 4)
    )


def _solve(a: list[list[float]], v: list[float]) -> list[float]:
    """Solve a small linear system by Gaussian elimination with partial pivoting."""
    n = len(v)
    m = [[*row, v[i]] for i, row in enumerate(a)]
    for c in range(n):
        pivot = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[pivot] = m[pivot], m[c]
        for r in range(c + 1, n):
            f = m[r][c] / m[c][c]
            for k in range(c, n + 1):
                m[r][k] -= f * m[c][k]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][k] * x[k] for k in range(r + 1, n))) / m[r][r]
    return x


def held_out(data: Sequence[Row]) -> list[tuple[float, int]]:
    """Return (confidence predicted by a model fitted on the other folds, outcome) for every row, in row order."""
    predicted: dict[int, tuple[float, int]] = {}
    for fold in range(FOLDS):
        model = fit_calibration([r for r in data if r[0] % FOLDS != fold])
        for n, s, g, c, y in data:
            if n % FOLDS == fold:
                predicted[n] = (model.confidence(s, g, c), y)
    return [predicted[r[0]] for r in data]


def policy_table(items: Sequence[Item], data: Sequence[Row], levels: Sequence[float]) -> list[str]:
    """Return, per answer threshold on the held-out confidence, each set's in-scope / OOS fallback / wrong rates."""
    conf = dict(zip((r[0] for r in data), held_out(data), strict=True))
    lines = []
    for level in levels:
        parts = []
        for name in dict.fromkeys(i.set_name for i in items):
            inside = [i for i in items if i.set_name == name]
            answered = {i.number: conf[i.number] for i in inside if i.number in conf and conf[i.number][0] >= level}
            scope = [i for i in inside if i.right]
            oos = [i for i in inside if not i.right]
            right = sum(1 for i in scope if i.number in answered and answered[i.number][1])
            wrong = sum(1 for i in inside if i.number in answered and not answered[i.number][1])
            oos_fb = sum(1 for i in oos if i.number not in answered)
            parts.append(
                f"{name} {100 * right / max(1, len(scope)):.1f}/{100 * oos_fb / max(1, len(oos)):.1f}/"
                f"{100 * wrong / max(1, len(inside)):.1f}"
            )
        lines.append(f"  answer at confidence >= {level:.2f}: " + "  ".join(parts))
    return lines


def log_loss(predictions: Sequence[tuple[float, int]]) -> float:
    """Return the mean negative log likelihood of the outcomes."""
    eps = 1e-9
    total = sum(-math.log(max(eps, p if y else 1 - p)) for p, y in predictions)
    return total / max(1, len(predictions))


def cv_loss(items: Sequence[Item], weights: Weights) -> float:
    """Return the cross-validated log loss of the confidence under these weights."""
    return log_loss(held_out(rows(items, weights)))


def fit_weights(items: Sequence[Item], start: Weights, rounds: int = 3) -> Weights:
    """Coordinate descent over GRIDS from start, keeping a change only when it lowers the CV loss."""
    best, best_loss = start, cv_loss(items, start)
    for _ in range(rounds):
        improved = False
        for f in fields(Weights):
            for value in GRIDS[f.name]:
                trial = replace(best, **{f.name: value})
                loss = cv_loss(items, trial)
                if loss < best_loss - 1e-6:
                    best, best_loss, improved = trial, loss, True
        if not improved:
            break
    return best


def reliability(predictions: Sequence[tuple[float, int]], bins: int = 5) -> list[str]:
    """Return one line per confidence bin: how many answers, mean confidence, share right."""
    lines = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [(p, y) for p, y in predictions if low <= p < high or (b == bins - 1 and p == 1.0)]
        if inside:
            mean = sum(p for p, _ in inside) / len(inside)
            right = sum(y for _, y in inside) / len(inside)
            lines.append(f"  {low:.1f}-{high:.1f}: n={len(inside):4d}  mean confidence {mean:.3f}  right {right:.3f}")
    return lines


def ablation(items: Sequence[Item], weights: Weights) -> list[str]:
    """Return, per weight, the CV loss when that weight is neutralised (mismatch factor 1, closeness part 0)."""
    base = cv_loss(items, weights)
    lines = [f"  fitted: CV log loss {base:.4f}"]
    for f in fields(Weights):
        neutral = 1.0 if f.name.endswith("_mismatch") or f.name == "coverage_share" else 0.0
        loss = cv_loss(items, replace(weights, **{f.name: neutral}))
        lines.append(f"  {f.name} = {neutral}: CV log loss {loss:.4f} ({loss - base:+.4f})")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite {SCORING_FILE.relative_to(ROOT)}")
    parser.add_argument(
        "--keep-weights", action="store_true", help="fit the calibration only, on the weights in use (no search)"
    )
    args = parser.parse_args(argv)
    engine = Engine.load()
    items = collect(engine)
    start = engine.matcher.weights
    print(f"{len(items)} tuning questions from {', '.join(n for n, _ in tuning_sets())}; {FOLDS} folds")
    print(f"start weights: CV log loss {cv_loss(items, start):.4f}")
    weights = start if args.keep_weights else fit_weights(items, start)
    print(f"fitted weights: CV log loss {cv_loss(items, weights):.4f}\n  {asdict(weights)}")
    data = rows(items, weights)
    calibration = fit_calibration(data)
    print(f"calibration on all folds: {asdict(calibration)}")
    print("reliability of the top candidate's confidence, held-out folds:")
    print("\n".join(reliability(held_out(data))))
    print("in-scope right / OOS fallen back / confidently wrong (%), held-out confidence, per set:")
    print("\n".join(policy_table(items, data, (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95))))
    print("ablation (each weight neutralised, others fitted):")
    print("\n".join(ablation(items, weights)))
    if args.write:
        payload = {
            "_comment": "Written by scripts/fit_scoring.py --write; see intents/scoring.py.",
            "weights": asdict(weights),
            "calibration": asdict(calibration),
        }
        SCORING_FILE.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {SCORING_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
