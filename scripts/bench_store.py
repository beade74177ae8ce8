"""Benchmark (not a test) of the store: what recording adds to a reply, and the outbox's delivery rate.

    python scripts/bench_store.py [--questions 3000] [--escalations 3000] [--no-postgres]

Reply time is measured around `Assistant.ask` in one process, first without a store, then with SQLite (WAL under a
temporary DATA_DIR) and, when Debian's PostgreSQL server is installed, a throwaway PostgreSQL on a Unix socket
(tests/fakes/postgres.py). Delivery rate: that many fallbacks recorded, then delivered by one Dispatcher to a local
receiver (uvicorn in a thread of this process, answering 200 at once).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "http")]

from fakes.postgres import PostgresUnavailable, postgres_server  # noqa: E402
from http_helpers import Receiver, serve  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.routing import Route  # noqa: E402

from bot.escalation import Dispatcher  # noqa: E402
from bot.service import Asker, Assistant  # noqa: E402
from bot.store import Store  # noqa: E402
from intents import Engine  # noqa: E402

QUESTIONS = ["企业开办要几天", "今天天气怎么样", "12345热线是干什么的", "办不成事去哪", "营商环境"]


def percentile(ordered: list[float], share: float) -> float:
    """Return the share-th value of an ordered list (nearest rank)."""
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def reply_times(service: Assistant, asker: Asker, n: int) -> list[float]:
    """Return n reply times in ms, sorted, after a warm-up."""
    for i in range(200):
        await service.ask(QUESTIONS[i % len(QUESTIONS)], asker)
    times = []
    for i in range(n):
        started = time.perf_counter()
        await service.ask(QUESTIONS[i % len(QUESTIONS)], asker)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


async def measure(engine: Engine, url: str | None, data_dir: Path, n: int, label: str, base: list[float]) -> None:
    store = Store.from_settings(data_dir, url)
    await store.open()
    try:
        for asker, what in ((Asker("api"), "no chat"), (Asker("telegram", chat_id=5, user_id=5), "with chat")):
            times = await reply_times(Assistant(engine, store=store, escalate=True), asker, n)
            p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
            print(
                f"{label:<10} {what:<9} p50 {p50:6.3f} ms  p99 {p99:6.3f} ms  "
                f"(adds p50 {p50 - percentile(base, 0.5):+.3f}, p99 {p99 - percentile(base, 0.99):+.3f})"
            )
    finally:
        await store.close()


async def delivery(engine: Engine, url: str | None, data_dir: Path, n: int, hook: str, receiver: Receiver) -> float:
    store = Store.from_settings(data_dir, url)
    await store.open()
    try:
        await store.truncate_all()
        service = Assistant(engine, store=store, escalate=True)
        for _ in range(n):
            await service.ask("今天天气怎么样", Asker("api"))
        before = len(receiver.accepted)
        dispatcher = Dispatcher(store, hook, poll_seconds=0.05)
        started = time.perf_counter()
        await dispatcher.start()
        while len(receiver.accepted) - before < n:
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
        await dispatcher.stop()
        return n / elapsed
    finally:
        await store.close()


@contextmanager
def backends(use_postgres: bool) -> Iterator[list[tuple[str, str | None]]]:
    with ExitStack() as stack:
        found: list[tuple[str, str | None]] = [("sqlite", None)]
        if use_postgres:
            try:
                server = stack.enter_context(postgres_server())
                found.append(("postgresql", server.create_database("bench")))
            except PostgresUnavailable as exc:
                print(f"(PostgreSQL skipped: {exc})")
        yield found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=3000)
    parser.add_argument("--escalations", type=int, default=3000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    engine = Engine.load()
    receiver = Receiver()
    app = Starlette(routes=[Route("/hook", receiver.endpoint, methods=["POST"])])
    with backends(not args.no_postgres) as found, serve(app) as url, tempfile.TemporaryDirectory() as tmp:
        base = asyncio.run(reply_times(Assistant(engine), Asker("api"), args.questions))
        print(f"{args.questions} replies each; {len(QUESTIONS)} questions in turn (answer, fallback, suggest)")
        print(f"{'no store':<10} {'':<9} p50 {percentile(base, 0.5):6.3f} ms  p99 {percentile(base, 0.99):6.3f} ms")
        for label, db in found:
            asyncio.run(measure(engine, db, Path(tmp) / label, args.questions, label, base))
        for label, db in found:
            rate = asyncio.run(
                delivery(engine, db, Path(tmp) / f"d-{label}", args.escalations, url + "/hook", receiver)
            )
            print(f"outbox delivery, {label}: {args.escalations} escalations at {rate:,.0f}/s (8 in flight)")
    print(f"(median of no-store replies: {statistics.median(base):.3f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
