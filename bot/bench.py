"""`python -m bot bench`: latency on the real and a synthetic 100,000-question base, start-up time, peak memory."""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.startup import long_lived
from intents import Engine
from intents.evaluation import load_cases
from intents.matcher import IntentDoc, Matcher

ROOT = Path(__file__).resolve().parent.parent
QUESTION_FILES = (ROOT / "tests" / "data" / "eval-questions.tsv", ROOT.parent / "shared" / "eval" / "dev-questions.tsv")
SYNTHETIC_EXAMPLES = 100_000
_SUFFIXES = ("要多久", "是多少", "怎么办理", "在哪里办", "什么时候", "有哪些", "多少钱", "")


def _percentiles(samples: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return p50, p99


def _time_each(func: Callable[[str], object], questions: Sequence[str], rounds: int) -> list[float]:
    samples: list[float] = []
    for _ in range(rounds):
        for question in questions:
            start = time.perf_counter()
            func(question)
            samples.append(time.perf_counter() - start)
    return samples


def _real_questions() -> list[str]:
    return [case.question for path in QUESTION_FILES if path.is_file() for case in load_cases(path)]


def synthetic_docs(engine: Engine, examples: int, seed: int = 7) -> list[IntentDoc]:
    """Return intents whose example questions are random phrases built from real Chinese words."""
    rng = random.Random(seed)
    vocabulary = engine.analyzer.lexicon.tokenizer.vocabulary
    words = [w for w, f in vocabulary.items() if 2 <= len(w) <= 4 and f < 20_000]
    words = sorted(words)[:: max(1, len(words) // 30_000)]
    docs: list[IntentDoc] = []
    per_intent = 5
    for i in range(examples // per_intent):
        topic = rng.sample(words, 2)
        questions = tuple(
            "".join(rng.sample(topic, 2)) + rng.choice(words) + rng.choice(_SUFFIXES) for _ in range(per_intent)
        )
        docs.append(IntentDoc(id=f"synthetic_{i}", questions=questions))
    return docs


def run_bench(*, quick: bool = False, cache_dir: Path | None = None) -> int:
    """Print the benchmark figures (the engine cached in cache_dir, the setting); return the exit status."""
    print(f"python {sys.version.split()[0]} on {sys.platform}")
    # First, before this process grows: a forked child starts with its parent's peak memory on record.
    wall: list[float] = []
    peak_kib = 0
    for _ in range(3 if quick else 7):
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "bot", "ask", "企业开办要几天"], cwd=ROOT, stdout=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall.append(time.perf_counter() - start)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            print(f"ask failed with exit status {child.returncode}")
            return 1
        peak_kib = max(peak_kib, usage.ru_maxrss)
    print(
        f"`python -m bot ask 企业开办要几天` whole process: median {statistics.median(wall):.3f} s, "
        f"best {min(wall):.3f} s; peak RSS {peak_kib / 1024:.1f} MiB"
    )
    start = time.perf_counter()
    with long_lived():  # as serve and the CLI build it: frozen out of the cyclic GC's full collections
        engine = Engine.load(cache_dir=cache_dir)
    print(
        f"engine load: {time.perf_counter() - start:.3f} s ({len(engine.kb.entries)} entries, "
        f"{engine.matcher.example_count} example questions)"
    )

    questions = _real_questions() or [q for e in engine.kb.entries.values() for q in e.questions]
    samples = _time_each(engine.ask, questions, 1)  # each question for the first time in this process
    p50, p99 = _percentiles(samples)
    print(f"real base, {len(samples)} questions asked once: p50 {p50 * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms")
    samples = _time_each(engine.ask, questions, 1 if quick else 5)
    p50, p99 = _percentiles(samples)
    print(f"real base, the same {len(samples)} asked again: p50 {p50 * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms")

    start = time.perf_counter()
    docs = synthetic_docs(engine, 20_000 if quick else SYNTHETIC_EXAMPLES)
    matcher = Matcher(engine.analyzer, docs)
    print(f"synthetic base: {matcher.example_count} example questions indexed in {time.perf_counter() - start:.1f} s")
    rng = random.Random(11)
    probes = [rng.choice(d.questions) for d in rng.sample(docs, 500)]
    probes += [q[: len(q) // 2] + rng.choice(_SUFFIXES) for q in probes[:250]]

    def synthetic_ask(question: str) -> object:
        return matcher.rank(engine.analyzer.analyze(question))

    samples = _time_each(synthetic_ask, probes, 1 if quick else 3)
    p50, p99 = _percentiles(samples)
    print(f"synthetic base, {len(samples)} questions: p50 {p50 * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms")

    return 0
