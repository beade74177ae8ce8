"""Memory under a stream of questions with new words: peak RSS as it goes (a benchmark, not a test).

    python scripts/bench_memory.py [COUNT]    # default 100000

Each question is `企业开办<8 random letters>要几天<n>`, so every one brings words no cache has seen.
"""

from __future__ import annotations

import random
import resource
import string
import sys

from intents import Engine


def rss_mib() -> float:
    """Return this process's peak resident set size in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    """Ask COUNT new questions and print peak RSS and the caches' sizes four times along the way."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    engine = Engine.load()
    rng = random.Random(1)
    print(f"start: peak RSS {rss_mib():.1f} MiB")
    for i in range(count):
        word = "".join(rng.choice(string.ascii_lowercase) for _ in range(8))
        engine.ask(f"企业开办{word}要几天{i}")
        if (i + 1) % max(1, count // 4) == 0:
            print(
                f"{i + 1} questions: peak RSS {rss_mib():.1f} MiB, "
                f"{engine.analyzer.lexicon.cached_weights} word weights, {len(engine.matcher._credits)} credits cached"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
