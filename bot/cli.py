"""Command line: ask, chat, eval, kb check/export, bench, serve, config."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # imported lazily at run time: `ask` must start fast
    from bot.config import Settings
    from intents import Answer, Engine

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _engine() -> Engine:
    from bot.config import engine_cache_dir
    from intents import Engine

    return Engine.load(cache_dir=engine_cache_dir())


def _print_answer(answer: Answer, out: TextIO) -> None:
    out.write(answer.text + "\n")


def _json_line(answer: Answer) -> str:
    return json.dumps(answer.to_dict(), ensure_ascii=False)


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer one question (or one per stdin line with `-`)."""
    question = " ".join(args.question)
    engine = _engine()
    if question == "-":
        for line in sys.stdin:
            answer = engine.ask(line.rstrip("\r\n"))
            sys.stdout.write((_json_line(answer) if args.json else answer.text) + "\n")
            sys.stdout.flush()
        return EXIT_OK
    answer = engine.ask(question)
    if args.json:
        sys.stdout.write(_json_line(answer) + "\n")
    else:
        _print_answer(answer, sys.stdout)
    return EXIT_OK


def cmd_chat(args: argparse.Namespace) -> int:
    """Run an interactive console on the engine."""
    from bot.console import run_console

    return run_console(_engine(), sys.stdin, sys.stdout)


def cmd_eval(args: argparse.Namespace) -> int:
    """Score the engine on a question file and list every miss."""
    from intents.evaluation import EvalFileError, evaluate, load_cases

    try:
        cases = load_cases(Path(args.file))
    except (OSError, UnicodeDecodeError, EvalFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    report = evaluate(_engine(), cases)
    for result in report.misses:
        a = result.answer
        expected = "|".join(result.case.figures) or "OOS"
        got = (
            "fallback"
            if a.outcome == "fallback"
            else ("suggest " + ",".join(s.intent for s in a.suggestions) if a.suggestions else f"answer {a.intent}")
        )
        print(
            f"MISS line {result.case.line}: {result.case.question}  "
            f"expected {expected}; got {got} (score {a.score:.1f})"
        )
    n_in, n_oos = len(report.in_scope), len(report.out_of_scope)
    print(f"questions: {len(report.results)} ({n_in} in scope, {n_oos} out of scope)")
    print(f"in-scope accuracy: {report.in_scope_accuracy:.1%}  out-of-scope fallback: {report.oos_fallback_rate:.1%}")
    print(f"confidently wrong: {report.confidently_wrong_rate:.1%}")
    return EXIT_OK


def cmd_kb(args: argparse.Namespace) -> int:
    """Check the knowledge base, or export every entry as JSON lines."""
    from knowledge import check_knowledge_base

    kb, problems = check_knowledge_base(args.data) if args.data else check_knowledge_base()
    if args.action == "check":
        for problem in problems:
            print(problem, file=sys.stderr)
        if kb is None:
            print(f"{len(problems)} error(s)", file=sys.stderr)
            return EXIT_FAIL
        facts = sum(len(e.facts) for e in kb.entries.values())
        questions = sum(len(e.questions) for e in kb.entries.values())
        print(f"ok: {len(kb.topics)} topics, {len(kb.entries)} entries, {questions} example questions, {facts} facts")
        return EXIT_OK
    if kb is None:
        for problem in problems:
            print(problem, file=sys.stderr)
        return EXIT_FAIL
    from knowledge.export import entry_to_dict

    for entry in kb.entries.values():
        print(json.dumps(entry_to_dict(entry), ensure_ascii=False))
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    """Measure latency, start-up time and memory (a benchmark, not a test)."""
    from bot.bench import run_bench

    return run_bench(quick=args.quick)


def _settings() -> Settings | None:
    """Return the settings from the environment, or None after printing what is wrong with them."""
    from bot.config import ConfigError, Settings

    try:
        return Settings.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return None


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the HTTP server (JSON API, Telegram webhook) and, with a token, the Telegram bot."""
    from bot.serve import run

    settings = _settings()
    return EXIT_USAGE if settings is None else run(settings)


def cmd_config(args: argparse.Namespace) -> int:
    """Print the effective settings with secrets masked."""
    settings = _settings()
    if settings is None:
        return EXIT_USAGE
    print(json.dumps(settings.masked(), ensure_ascii=False, indent=2))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="呼和浩特营商环境与政务服务问答助手. Without a subcommand: the Telegram bot when "
        "TELEGRAM_BOT_TOKEN is set, else an interactive console.",
    )
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("--json", action="store_true", help="print one JSON object (one per line with '-')")
    p.add_argument("question", nargs="+", help="the question, or '-' to read one question per line from stdin")
    p.set_defaults(func=cmd_ask)
    p = sub.add_parser("chat", help="interactive console")
    p.set_defaults(func=cmd_chat)
    p = sub.add_parser("eval", help="score the engine on a question file (dev-questions.tsv format)")
    p.add_argument("file")
    p.set_defaults(func=cmd_eval)
    p = sub.add_parser("kb", help="check or export the knowledge base")
    p.add_argument("action", choices=["check", "export"])
    p.add_argument("--json", action="store_true", help="with export: one JSON object per line (the only format)")
    p.add_argument("--data", type=Path, help="a knowledge data folder to use instead of the packaged one")
    p.set_defaults(func=cmd_kb)
    p = sub.add_parser("bench", help="measure latency, start-up and memory")
    p.add_argument("--quick", action="store_true", help="fewer repetitions")
    p.set_defaults(func=cmd_bench)
    p = sub.add_parser("serve", help="run the HTTP API and the Telegram bot")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("config", help="print the effective settings, secrets masked")
    p.set_defaults(func=cmd_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status."""
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "WARNING").upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args.func = cmd_serve if os.environ.get("TELEGRAM_BOT_TOKEN", "").strip() else cmd_chat
    try:
        result: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    return result
