"""Benchmark the Telegram bot end to end through the tests' fake Bot API (a benchmark, not a test).

    python scripts/bench_telegram.py [--questions 500] [--burst 2000] [--chats 200]

Runs the real python-telegram-bot Application against the fake Bot API server on 127.0.0.1, in long polling
and in webhook mode, and reports:
- sequential latency: one question at a time, from the update becoming available at the Bot API to the
  answer arriving there (getUpdates or the webhook push, the bot's work, sendMessage);
- burst throughput: `--burst` questions from `--chats` private chats at once, and the latency under that load;
- the bot's own part: the CPU time per reply of parsing the update and of ask + render + keyboard.
The fake server, the webhook server and the bot share one process and one event loop, so the end-to-end
figures include the fake's own work. Telegram's broadcast limit (30 messages a second) is switched off
here, to measure the bot rather than that limit; flood control is set high for the same reason.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "telegram")]
os.environ.setdefault("PTB_TIMEDELTA", "1")

import telegram_factories as tf  # noqa: E402
from fake_bot_api import FakeBotApi, serving  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from telegram import Update  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.service import AskService  # noqa: E402
from bot.telegram import (  # noqa: E402  # noqa: E402
    TelegramRunner,
    Tuning,
    build_application,
    keyboards,
    render,
    start_telegram,
    telegram_webhook_route,
)
from intents import Engine  # noqa: E402

TOKEN = "123456789:AAFakeTokenForTheBenchmark-0123456789"
SECRET = "bench-secret-0123456789"
TUNING = Tuning(overall_max_rate=0, poll_timeout=10)


def _ms(seconds: float) -> float:
    return seconds * 1000.0


def _percentiles(samples: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def _questions(engine: Engine, count: int) -> list[str]:
    pool = [q for e in engine.kb.entries.values() for q in e.questions]
    return [pool[i % len(pool)] for i in range(count)]


@asynccontextmanager
async def running_bot(api: FakeBotApi, service: AskService, mode: str) -> AsyncIterator[TelegramRunner]:
    """Start the bot against the fake API in polling or webhook mode."""
    settings = Settings(telegram_bot_token=TOKEN, telegram_base_url=api.base_url, chat_rate_limit_per_minute=10_000)
    if mode == "polling":
        runner = await start_telegram(settings, service, tuning=TUNING)
        try:
            yield runner
        finally:
            await runner.stop()
        return
    settings = settings.model_copy(update={"webhook_secret": SecretStr(SECRET)})
    application = build_application(settings, service, webhook=True, tuning=TUNING)
    async with serving(Starlette(routes=[telegram_webhook_route(application, SECRET)])) as port:
        settings = settings.model_copy(update={"webhook_url": f"http://127.0.0.1:{port}/telegram/webhook"})
        runner = await start_telegram(settings, service, application=application, tuning=TUNING)
        try:
            yield runner
        finally:
            await runner.stop()


async def sequential(api: FakeBotApi, questions: Sequence[str]) -> list[float]:
    """Ask one question at a time; return each reply's latency in seconds."""
    u = tf.user()
    chat = tf.private_chat(u)
    latencies = []
    for i, question in enumerate(questions):
        start = time.perf_counter()
        await api.send(chat, u, question)
        [*_, reply] = await api.wait_replies(chat["id"], i + 1)
        latencies.append(reply.sent_at - start)
    return latencies


async def burst(api: FakeBotApi, questions: Sequence[str], chats: int) -> tuple[float, list[float]]:
    """Ask all questions at once from many chats; return the seconds until the last reply and each latency."""
    people = [tf.user(f"用户{i}") for i in range(chats)]
    asked: dict[int, list[float]] = {p["id"]: [] for p in people}
    before = len(api.sent)
    start = time.perf_counter()
    for i, question in enumerate(questions):
        person = people[i % chats]
        asked[person["id"]].append(time.perf_counter())
        await api.send(tf.private_chat(person), person, question)
    await api.wait_for(lambda: len(api.sent) - before >= len(questions), timeout=300)
    elapsed = max(m.sent_at for m in api.sent[before:]) - start
    latencies = []
    for chat_id, times in asked.items():
        # One chat's answers arrive in the order it asked.
        latencies += [reply.sent_at - t for reply, t in zip(api.replies(chat_id), times, strict=True)]
    return elapsed, latencies


def own_part(engine: Engine, questions: Sequence[str]) -> tuple[list[float], list[float]]:
    """Return the per-reply CPU seconds of parsing an update, and of ask + render + keyboard."""
    service = AskService(engine)
    u = tf.user()
    chat = tf.private_chat(u)
    parse, answer = [], []
    for i, question in enumerate(questions):
        data = {"update_id": i + 1, "message": tf.message(chat, i + 1, sender=u, text=question)}
        start = time.perf_counter()
        Update.de_json(data, None)
        parse.append(time.perf_counter() - start)
        start = time.perf_counter()
        reply = service.ask(question, channel="telegram", user_id=u["id"])
        render.render_answer(reply)
        keyboards.answer_keyboard(reply, engine.kb)
        answer.append(time.perf_counter() - start)
    return parse, answer


async def run(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    engine = Engine.load()
    results: dict[str, dict[str, float]] = {}
    for mode in ("polling", "webhook"):
        async with FakeBotApi(TOKEN) as api, running_bot(api, AskService(engine), mode):
            await sequential(api, _questions(engine, 20))  # warm up connections and caches
            seq = await sequential(api, _questions(engine, args.questions))
            elapsed, loaded = await burst(api, _questions(engine, args.burst), args.chats)
        p50, p99 = _percentiles(seq)
        lp50, lp99 = _percentiles(loaded)
        results[mode] = {
            "sequential_p50_ms": _ms(p50),
            "sequential_p99_ms": _ms(p99),
            "burst_replies_per_s": args.burst / elapsed,
            "burst_p50_ms": _ms(lp50),
            "burst_p99_ms": _ms(lp99),
        }
    parse, answer = own_part(engine, _questions(engine, args.questions))
    results["bot_own_part"] = {
        "parse_update_p50_ms": _ms(_percentiles(parse)[0]),
        "parse_update_p99_ms": _ms(_percentiles(parse)[1]),
        "ask_render_keyboard_p50_ms": _ms(_percentiles(answer)[0]),
        "ask_render_keyboard_p99_ms": _ms(_percentiles(answer)[1]),
    }
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a table (or JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=500, help="sequential questions per mode")
    parser.add_argument("--burst", type=int, default=2000, help="questions asked at once per mode")
    parser.add_argument("--chats", type=int, default=200, help="chats the burst comes from")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(
        f"Telegram bot, end to end through the fake Bot API ({args.questions} sequential questions, "
        f"a burst of {args.burst} from {args.chats} chats, per mode)\n"
    )
    print("| mode | sequential p50 | sequential p99 | burst throughput | burst p50 | burst p99 |")
    print("|---|---|---|---|---|---|")
    for mode in ("polling", "webhook"):
        r = results[mode]
        print(
            f"| {mode} | {r['sequential_p50_ms']:.1f} ms | {r['sequential_p99_ms']:.1f} ms | "
            f"{r['burst_replies_per_s']:.0f} replies/s | {r['burst_p50_ms']:.0f} ms | {r['burst_p99_ms']:.0f} ms |"
        )
    own = results["bot_own_part"]
    print(
        f"\nThe bot's own part per reply: parsing the update {own['parse_update_p50_ms']:.2f} ms p50 / "
        f"{own['parse_update_p99_ms']:.2f} ms p99; ask + render + keyboard {own['ask_render_keyboard_p50_ms']:.2f} ms "
        f"p50 / {own['ask_render_keyboard_p99_ms']:.2f} ms p99."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
