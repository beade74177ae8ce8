"""Command line: ask, chat, eval, kb check/export/import, bench, serve, config."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot.startup import long_lived

if TYPE_CHECKING:  # imported lazily at run time: `ask` must start fast
    from bot.config import Settings
    from bot.service import Assistant, Reply
    from intents import Engine
    from knowledge import KnowledgeBase

logger = logging.getLogger(__name__)
T = TypeVar("T")

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _engine(settings: Settings, *, packaged: bool = False) -> Engine:
    """Return the engine on KNOWLEDGE_DIR (or, with packaged, on the packaged knowledge base), cached in the
    settings' cache folder."""
    from intents import Engine

    return Engine.load(cache_dir=settings.cache_dir, data_dir=None if packaged else settings.knowledge_dir)


async def open_assistant(settings: Settings, engine: Engine | None = None) -> Assistant:
    """Return the assistant on the configured store; a store that cannot open is skipped with a warning
    (the command still answers, unrecorded)."""
    from bot.service import Assistant
    from bot.store import Store, StoreError

    engine = engine or _engine(settings)  # first: an invalid knowledge base must not leave a store open
    store: Store | None = Store.from_settings(settings.data_dir, settings.database_url)
    assert store is not None
    try:
        await store.open()
    except StoreError as exc:
        logger.warning("%s; answering without recording", exc)
        store = None
    return Assistant(
        engine,
        store=store,
        salt=settings.user_hash_salt.get_secret_value() if settings.user_hash_salt else "",
        context_ttl_seconds=settings.context_ttl_seconds,
    )


async def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.service import Asker

    question = " ".join(args.question)
    with long_lived():
        assistant = await open_assistant(settings)
    asker = Asker("cli")
    try:
        if question == "-":
            # One output line per input line, always: undecodable bytes become U+FFFD, never an abort.
            stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline=None)
            for line in stdin:
                reply = await assistant.ask(line.rstrip("\r\n"), asker)
                sys.stdout.write((_json_line(reply) if args.json else reply.text) + "\n")
                sys.stdout.flush()
            return EXIT_OK
        reply = await assistant.ask(question, asker)
        sys.stdout.write((_json_line(reply) if args.json else reply.text) + "\n")
        return EXIT_OK
    finally:
        if assistant.store is not None:
            await assistant.store.close()


def _json_line(reply: Reply) -> str:
    return json.dumps(reply.to_dict(), ensure_ascii=False)


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer one question (or one per stdin line with `-`), recorded in the store."""
    with long_lived():
        settings = _settings()
    if settings is None:
        return EXIT_USAGE
    return asyncio.run(_ask(args, settings))


def cmd_explain(args: argparse.Namespace) -> int:
    """Show why a question gets its reply: analysis, candidates feature by feature, decision and reason."""
    settings = _settings()
    if settings is None:
        return EXIT_USAGE
    explanation = _engine(settings, packaged=True).explain(" ".join(args.question))
    if args.json:
        sys.stdout.write(json.dumps(explanation.to_dict(), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(explanation.to_text() + "\n")
    return EXIT_OK


def cmd_chat(args: argparse.Namespace) -> int:
    """Run an interactive console on the assistant."""
    from bot.console import run_console

    settings = _settings()
    if settings is None:
        return EXIT_USAGE

    async def chat() -> int:
        with long_lived():
            assistant = await open_assistant(settings)
        try:
            return await run_console(assistant, sys.stdin, sys.stdout)
        finally:
            if assistant.store is not None:
                await assistant.store.close()

    return asyncio.run(chat())


def cmd_eval(args: argparse.Namespace) -> int:
    """Score the engine on a question file and list every miss."""
    from collections import Counter

    from intents.evaluation import EvalFileError, evaluate, load_cases

    try:
        cases = load_cases(Path(args.file))
    except (OSError, UnicodeDecodeError, EvalFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    settings = _settings()
    if settings is None:
        return EXIT_USAGE
    report = evaluate(_engine(settings, packaged=True), cases)
    for result in report.misses:
        a = result.answer
        expected = "|".join(result.case.figures) or "OOS"
        if a.suggestions:
            got = "suggest " + ",".join(s.intent for s in a.suggestions)
        else:  # answer, partial (with the related entry), fallback, smalltalk, empty
            got = f"{a.outcome.value} {a.entry.id}" if a.entry is not None else a.outcome.value
        print(
            f"MISS line {result.case.line}: {result.case.question}  "
            f"expected {expected}; got {got} (score {a.score:.1f})"
        )
    n_in, n_oos = len(report.in_scope), len(report.out_of_scope)
    print(f"questions: {len(report.results)} ({n_in} in scope, {n_oos} out of scope)")
    print(f"in-scope accuracy: {report.in_scope_accuracy:.1%}  out-of-scope fallback: {report.oos_fallback_rate:.1%}")
    print(f"confidently wrong: {report.confidently_wrong_rate:.1%}")
    outcomes = Counter(r.answer.outcome.value for r in report.results)
    print("outcomes: " + ", ".join(f"{name} {count}" for name, count in sorted(outcomes.items())))
    return EXIT_OK


async def _from_store(settings: Settings, use: Callable[[Assistant], Awaitable[T]]) -> T | None:
    """Run use on the assistant with its store open, then close it; None (said on stderr) without a store."""
    assistant = await open_assistant(settings)
    if assistant.store is None:
        print("error: the store cannot be opened (see the warning above)", file=sys.stderr)
        return None
    try:
        return await use(assistant)
    finally:
        await assistant.store.close()


def _kb_suggest(days: int, out: Path) -> int:
    """Write the proposals from the records into a review file."""
    from bot.curation import review_file

    settings = _settings()
    if settings is None:
        return EXIT_USAGE

    async def run() -> int:
        proposals = await _from_store(settings, lambda assistant: assistant.proposals(days))
        if proposals is None:
            return EXIT_FAIL
        out.write_text(review_file(proposals), encoding="utf-8")
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(Counter(p.kind for p in proposals).items())) or "none"
        print(f"{len(proposals)} proposal(s) ({kinds}) written to {out}; set accept: true, then kb accept {out}")
        return EXIT_OK

    from collections import Counter

    return asyncio.run(run())


def _kb_accept(path: Path | None, data_dir: Path) -> int:
    """Apply the accepted proposals of a review file to the topic files, validated first."""
    from bot.curation import accepted
    from knowledge.editing import add_questions
    from knowledge.loader import KnowledgeBaseError

    if path is None:
        print("error: kb accept needs the proposals file", file=sys.stderr)
        return EXIT_USAGE
    try:
        additions = accepted(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not additions:
        print("nothing accepted: set accept: true on the proposals to apply")
        return EXIT_OK
    try:
        written = add_questions(additions, data_dir)
    except KnowledgeBaseError as exc:
        print(f"not applied, the result would be invalid:\n{exc}", file=sys.stderr)
        return EXIT_FAIL
    count = sum(len(q) for q in additions.values())
    print(f"added {count} question(s) to {len(additions)} entr(y/ies); wrote {', '.join(p.name for p in written)}")
    print("run `python -m bot kb reload` to answer with them")
    return EXIT_OK


def _kb_reload(data: Path | None) -> int:
    """Validate the knowledge base the server loads, then ask the running server (its pid file) to reload it."""
    from bot.reload import PID_FILE, signal_running_server
    from knowledge import check_knowledge_base

    settings = _settings()
    if settings is None:
        return EXIT_USAGE
    folder = data or settings.knowledge_dir
    kb, problems = check_knowledge_base(folder) if folder else check_knowledge_base()
    if kb is None:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{len(problems)} error(s): not reloaded; the server keeps its knowledge base", file=sys.stderr)
        return EXIT_FAIL
    try:
        pid = signal_running_server(settings.data_dir)
    except (OSError, ValueError):
        print(f"error: no running server found ({settings.data_dir / PID_FILE})", file=sys.stderr)
        return EXIT_FAIL
    print(f"reload requested from the server (pid {pid}): {len(kb.entries)} entries")
    return EXIT_OK


def cmd_kb(args: argparse.Namespace) -> int:
    """Check the knowledge base, export it (JSON lines or a workbook), or import an edited workbook."""
    from knowledge import DATA_DIR, check_knowledge_base

    if args.action == "import":
        return _kb_import(args.file, args.data or DATA_DIR)
    if args.action == "reload":
        return _kb_reload(args.data)
    if args.action == "suggest":
        return _kb_suggest(args.days, args.file or Path("kb-suggestions.yaml"))
    if args.action == "accept":
        return _kb_accept(args.file, args.data or DATA_DIR)
    kb, problems = check_knowledge_base(args.data) if args.data else check_knowledge_base()
    if args.action == "check":
        for problem in problems:
            print(problem, file=sys.stderr)
        if kb is None:
            print(f"{len(problems)} error(s)", file=sys.stderr)
            return EXIT_FAIL
        facts = sum(len(e.facts) for e in kb.entries.values())
        questions = sum(len(e.questions) for e in kb.entries.values())
        against = _check_against_reports(kb, args.sources)
        if against is None:
            return EXIT_FAIL
        print(f"ok: {len(kb.topics)} topics, {len(kb.entries)} entries, {questions} example questions, {facts} facts")
        print(against)
        return EXIT_OK
    if kb is None:
        for problem in problems:
            print(problem, file=sys.stderr)
        return EXIT_FAIL
    if args.xlsx:
        from knowledge.spreadsheet import export_workbook

        try:
            export_workbook(kb, args.xlsx, args.data or DATA_DIR)
        except OSError as exc:
            print(f"cannot write {args.xlsx}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_FAIL
        print(f"wrote {len(kb.entries)} entries in {len(kb.topics)} topics to {args.xlsx}")
        return EXIT_OK
    from knowledge.export import entry_to_dict

    for entry in kb.entries.values():
        print(json.dumps(entry_to_dict(entry), ensure_ascii=False))
    return EXIT_OK


def _check_against_reports(kb: KnowledgeBase, folder: Path | None) -> str | None:
    """Check every fact's locator and dating against the reports; return a summary, or None after printing errors."""
    from knowledge.reports import DEFAULT_SOURCES, check_against_reports

    if folder is None and not DEFAULT_SOURCES.is_dir():
        return f"reports: not checked ({DEFAULT_SOURCES} is absent; pass --sources DIR)"
    folder = folder or DEFAULT_SOURCES
    try:
        problems = check_against_reports(kb, folder)
    except OSError as exc:
        print(f"cannot read the reports in {folder}: {exc.strerror or exc}", file=sys.stderr)
        return None
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} error(s) against the reports in {folder}", file=sys.stderr)
        return None
    return f"reports: every fact located and dated in {folder}"


def _kb_import(file: Path | None, data_dir: Path) -> int:
    """Write the topic files an edited workbook changes, or print every error and write nothing."""
    from knowledge.spreadsheet import SpreadsheetError, import_workbook

    if file is None:
        print("kb import needs the workbook to read: python -m bot kb import FILE.xlsx", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = import_workbook(file, data_dir)
    except SpreadsheetError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} error(s); nothing was written", file=sys.stderr)
        return EXIT_FAIL
    for path in result.written:
        print(f"wrote {path}")
    print(f"{len(result.written)} topic file(s) written, {result.unchanged} unchanged")
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    """Measure latency, start-up time and memory (a benchmark, not a test)."""
    from bot.bench import run_bench

    settings = _settings()
    if settings is None:
        return EXIT_USAGE
    return run_bench(quick=args.quick, cache_dir=settings.cache_dir)


_SETTINGS: list[Settings | None] = []
"""The settings, read once per run (environment and .env) and shared by every command."""


def _settings() -> Settings | None:
    """Return the settings from the environment and .env (read once), or None after printing what is wrong."""
    from bot.config import ConfigError, Settings

    if not _SETTINGS:
        try:
            settings = Settings.from_env()
        except ConfigError as exc:
            print(f"configuration error: {exc}", file=sys.stderr)
            _SETTINGS.append(None)
        else:
            _SETTINGS.append(settings)
            if "log_level" in settings.model_fields_set:  # only when set: a command's default is warnings only
                logging.getLogger().setLevel(settings.log_level)
    return _SETTINGS[0]


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the HTTP server (JSON API, Telegram webhook) and, with a token, the Telegram bot."""
    from bot.serve import run

    settings = _settings()
    return EXIT_USAGE if settings is None else run(settings)


def cmd_report(args: argparse.Namespace) -> int:
    """Print what was asked and how the assistant did, from the store."""
    from bot.report import unanswered_csv

    settings = _settings()
    if settings is None:
        return EXIT_USAGE

    async def run() -> int:
        report = await _from_store(settings, lambda assistant: assistant.report(args.days))
        if report is None:
            return EXIT_FAIL
        if args.csv:
            sys.stdout.write(unanswered_csv(report))
        elif args.json:
            data = report.to_dict()
            if args.unanswered:
                data = {"since": data["since"], "unanswered": data["unanswered"]}
            print(json.dumps(data, ensure_ascii=False, indent=2))
        elif args.unanswered:
            for group in report.unanswered:
                print(f"{group.count}\t{group.question}\t{' | '.join(group.examples)}")
        else:
            print(report.text())
        return EXIT_OK

    return asyncio.run(run())


def cmd_setup(args: argparse.Namespace) -> int:
    """Register the Telegram command menus and webhook once per deploy (replicas do not, see README)."""
    from bot.config import ConfigError
    from bot.telegram import setup_telegram

    settings = _settings()
    if settings is None:
        return EXIT_USAGE
    try:
        done = asyncio.run(setup_telegram(settings))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # network or Bot API refusal: say what, never the token
        print(f"telegram setup failed: {type(exc).__name__}", file=sys.stderr)
        return EXIT_FAIL
    print(done)
    return EXIT_OK


def cmd_config(args: argparse.Namespace) -> int:
    """Print the effective settings with secrets masked."""
    settings = _settings()
    if settings is None:
        return EXIT_USAGE
    print(json.dumps(settings.masked(), ensure_ascii=False, indent=2))
    return EXIT_OK


def cmd_db(args: argparse.Namespace) -> int:
    """Manage the store: upgrade (run migrations), prune (drop old records), outbox (list, requeue dead)."""
    from bot.store import OutboxStatus, Store, StoreError

    settings = _settings()
    if settings is None:
        return EXIT_USAGE
    store = Store.from_settings(settings.data_dir, settings.database_url)

    async def run() -> int:
        try:
            await store.open()  # runs the migrations
        except StoreError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAIL
        try:
            if args.action == "upgrade":
                print(f"ok: the store at {store.where} is up to date")
            elif args.action == "prune":
                days = args.days or settings.data_retention_days
                print(f"pruned {await store.prune(days)} record(s) older than {days} days")
            else:
                if args.retry_dead:
                    print(f"requeued {await store.retry_dead()} dead item(s)")
                counts = await store.outbox_counts()
                print("outbox: " + ", ".join(f"{s.value} {counts.get(s.value, 0)}" for s in OutboxStatus))
                for item in await store.outbox_items([OutboxStatus.PENDING, OutboxStatus.DEAD], limit=args.limit):
                    print(
                        f"{item.status.value}\t{item.id}\tattempts {item.attempts}\t"
                        f"{item.created_at.isoformat(timespec='seconds')}\t{item.last_error or ''}"
                    )
            return EXIT_OK
        finally:
            await store.close()

    return asyncio.run(run())


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
    p = sub.add_parser("explain", help="show why a question gets its reply (scores, features, decision)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("question", nargs="+")
    p.set_defaults(func=cmd_explain)
    p = sub.add_parser("chat", help="interactive console")
    p.set_defaults(func=cmd_chat)
    p = sub.add_parser("eval", help="score the engine on a question file (dev-questions.tsv format)")
    p.add_argument("file")
    p.set_defaults(func=cmd_eval)
    p = sub.add_parser("kb", help="check, export or import the knowledge base")
    p.add_argument("action", choices=["check", "export", "import", "reload", "suggest", "accept"])
    p.add_argument("--days", type=int, default=30, help="with suggest: the records of the last N days")
    p.add_argument(
        "file",
        nargs="?",
        type=Path,
        help="import: the edited .xlsx; suggest: the review file to write; accept: the review file",
    )
    p.add_argument("--json", action="store_true", help="with export: one JSON object per line (the default)")
    p.add_argument("--xlsx", type=Path, metavar="FILE", help="with export: write a workbook for curators instead")
    p.add_argument("--data", "--dir", type=Path, help="a knowledge data folder to use instead of the packaged one")
    p.add_argument(
        "--sources", type=Path, metavar="DIR", help="with check: the reports' folder (default: ../shared/sources)"
    )
    p.set_defaults(func=cmd_kb)
    p = sub.add_parser("bench", help="measure latency, start-up and memory")
    p.add_argument("--quick", action="store_true", help="fewer repetitions")
    p.set_defaults(func=cmd_bench)
    p = sub.add_parser("serve", help="run the HTTP API and the Telegram bot")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("db", help="the store: upgrade, prune old records, list or requeue escalations")
    p.add_argument("action", choices=["upgrade", "prune", "outbox"])
    p.add_argument("--days", type=int, help="with prune: keep this many days (default DATA_RETENTION_DAYS)")
    p.add_argument("--retry-dead", action="store_true", help="with outbox: requeue every dead item")
    p.add_argument("--limit", type=int, default=50, help="with outbox: list at most this many items")
    p.set_defaults(func=cmd_db)
    p = sub.add_parser("report", help="what was asked, how it went, what went unanswered")
    p.add_argument("--days", type=int, default=7, help="the last N days (default 7)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.add_argument("--unanswered", action="store_true", help="only the groups of unanswered questions")
    p.add_argument("--csv", action="store_true", help="the unanswered groups as CSV (for Excel/WPS)")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("setup", help="register the Telegram webhook and command menus (once per deploy)")
    p.set_defaults(func=cmd_setup)
    p = sub.add_parser("config", help="print the effective settings, secrets masked")
    p.set_defaults(func=cmd_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status."""
    # Commands log warnings only, unless LOG_LEVEL is set (applied when the settings are read, see _settings).
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    _SETTINGS.clear()  # each run reads the environment and .env anew, once
    if args.command is None:  # the token may be in the environment or only in .env
        from bot.config import Mode

        settings = _settings()
        if settings is None:
            return EXIT_USAGE
        args.func = cmd_chat if settings.mode is Mode.API else cmd_serve
    from knowledge.loader import KnowledgeBaseError

    try:
        result: int = args.func(args)
    except KnowledgeBaseError as exc:
        print(f"the knowledge base is invalid (run `python -m bot kb check`):\n{exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    return result
