"""Benchmark POST /v1/ask over loopback HTTP: throughput and latency percentiles (a benchmark, not a test).

Starts `python -m bot serve` (API only) on a free 127.0.0.1 port, sends a bounded number of keep-alive
requests from a lightweight asyncio client at a few concurrency levels, prints a table, and stops the server.

    python scripts/bench_http.py                 # 3,000 requests at each of concurrency 1, 8, 32
    python scripts/bench_http.py --requests 500  # quicker
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from knowledge import load_knowledge_base  # noqa: E402

OUT_OF_SCOPE = ["今天天气怎么样", "附近哪里有好吃的", "帮我写一首诗", "股票明天涨不涨", "怎么去北京"]


def questions() -> list[str]:
    """Return a realistic mix: each entry's example questions, plus out-of-scope ones that fall back."""
    kb = load_knowledge_base()
    mix = [q for entry in kb.entries.values() for q in entry.questions[:3]]
    return mix + OUT_OF_SCOPE * max(1, len(mix) // 20)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(port: int) -> subprocess.Popen[bytes]:
    names = set(Settings.variables().values()) - {"JIEBA_CACHE_DIR"}  # the engine's cache only speeds the start
    env = {k: v for k, v in os.environ.items() if k not in names}  # never a token: API only, no network
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "RATE_LIMIT_PER_MINUTE": "100000",
            "LOG_LEVEL": "warning",
            "DATA_DIR": tempfile.mkdtemp(prefix="bench-http-"),
        }  # the store is on, in SQLite
    )
    process = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, cwd=ROOT / "scripts")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def request_bytes(question: str, port: int) -> bytes:
    body = json.dumps({"question": question}, ensure_ascii=False).encode()
    head = (
        f"POST /v1/ask HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:"))
    await reader.readexactly(length)
    return status


async def load(
    port: int, payloads: list[bytes], concurrency: int, total: int, limit: float
) -> tuple[list[float], int, float]:
    """Send up to total requests (or for limit seconds) over concurrency keep-alive connections."""
    latencies: list[float] = []
    errors = 0
    sent = 0
    deadline = time.perf_counter() + limit

    async def worker() -> None:
        nonlocal sent, errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while sent < total and time.perf_counter() < deadline:
                payload = payloads[sent % len(payloads)]
                sent += 1
                start = time.perf_counter()
                writer.write(payload)
                status = await read_response(reader)
                latencies.append(time.perf_counter() - start)
                if status != 200:
                    errors += 1
        finally:
            writer.close()
            await writer.wait_closed()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors, time.perf_counter() - started


def percentile(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per concurrency level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time limit per level")
    args = parser.parse_args()

    mix = questions()
    port = free_port()
    payloads = [request_bytes(q, port) for q in mix]
    server = start_server(port)
    try:
        asyncio.run(load(port, payloads, 4, min(200, args.requests), 10.0))  # warm-up, not reported
        print(
            f"POST /v1/ask on {platform.python_implementation()} {platform.python_version()}, "
            f"{os.cpu_count()} CPUs, {len(mix)} distinct questions, loopback, one uvicorn worker"
        )
        print(
            f"{'concurrency':>11} {'requests':>8} {'req/s':>8} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} "
            f"{'max ms':>7} {'errors':>6}"
        )
        for concurrency in args.concurrency:
            run = load(port, payloads, concurrency, args.requests, args.max_seconds)
            latencies, errors, elapsed = asyncio.run(run)
            ordered = sorted(latencies)
            ms = [1000 * percentile(ordered, p) for p in (0.5, 0.9, 0.99)]
            print(
                f"{concurrency:>11} {len(ordered):>8} {len(ordered) / elapsed:>8.0f} {ms[0]:>7.2f} {ms[1]:>7.2f} "
                f"{ms[2]:>7.2f} {1000 * ordered[-1]:>7.2f} {errors:>6}"
            )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
