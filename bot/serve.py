"""`python -m bot serve`: one HTTP server for the JSON API and Telegram's webhook, and Telegram polling."""

from __future__ import annotations

import logging
import secrets
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from bot.config import Mode, Settings, reveal
from bot.escalation import Dispatcher
from bot.http import create_app
from bot.http.protocol import GuardedH11Protocol
from bot.logging_setup import configure_logging
from bot.metrics import Metrics
from bot.reload import Reloader, ReplicaReloads, install_sighup, write_pid
from bot.service import Assistant
from bot.startup import long_lived
from bot.store import Store
from bot.store.locks import ProcessLock, acquire_polling_lock
from intents import Engine
from knowledge.loader import KnowledgeBaseError

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAIL = 0, 1
KEEP_ALIVE_SECONDS = 5
"""An idle keep-alive connection is closed after this many seconds."""


def build_app(settings: Settings, engine: Engine) -> Starlette:
    """Build the service, metrics, escalation and, when configured, the Telegram side; return the ASGI app."""
    salt = reveal(settings.user_hash_salt)
    if salt is None:
        salt = secrets.token_hex(16)
        logger.info("USER_HASH_SALT is not set: user hashes will change when the server restarts")
    store = Store.from_settings(settings.data_dir, settings.database_url)
    metrics = Metrics()
    dispatcher: Dispatcher | None = None
    if settings.escalation_webhook_url:
        dispatcher = Dispatcher(
            store,
            settings.escalation_webhook_url,
            secret=reveal(settings.escalation_webhook_secret),
            timeout=settings.escalation_timeout_seconds,
            lease_seconds=settings.escalation_lease_seconds,
            on_result=metrics.escalation,
        )
    service = Assistant(
        engine,
        store=store,
        salt=salt,
        context_ttl_seconds=settings.context_ttl_seconds,
        escalate=dispatcher is not None,
        escalate_suggestions=settings.escalate_suggestions,
        on_escalation=dispatcher.wake if dispatcher is not None else None,
    )
    service.subscribe(metrics.observe)
    reloader = Reloader(service, settings)
    replicas = ReplicaReloads(reloader, store)
    pid_file: Path | None = None

    async def start_reloads() -> None:  # SIGHUP and `python -m bot kb reload` reread the knowledge base
        nonlocal pid_file
        install_sighup(reloader)
        pid_file = write_pid(settings.data_dir)
        if await replicas.start():
            logger.info("reload: replicas on this database reload together")

    async def stop_reloads() -> None:
        await replicas.stop()
        if pid_file is not None:
            pid_file.unlink(missing_ok=True)

    mode = settings.mode
    if mode is Mode.API:
        return create_app(
            service,
            settings,
            metrics=metrics,
            dispatcher=dispatcher,
            reloader=reloader,
            startup=[start_reloads],
            shutdown=[stop_reloads],
        )

    # Imported only now: the API-only server neither needs nor pays for python-telegram-bot.
    import bot.telegram as telegram

    runner: telegram.TelegramRunner | None = None
    polling_lock: ProcessLock | None = None
    route: BaseRoute | None = None
    if mode is Mode.WEBHOOK:
        settings = settings.with_webhook_secret()
        assert settings.webhook_secret is not None
    # Every update goes through the store's inbox: stored before it is acknowledged, answered once.
    application = telegram.build_application(
        settings,
        service,
        webhook=mode is Mode.WEBHOOK,
        inbox=store,
        inbox_tuning=telegram.InboxTuning(lease_seconds=settings.inbox_lease_seconds),
        reloader=reloader,
    )
    if mode is Mode.WEBHOOK:
        # The route and the runner share one Application: updates posted to the route feed its queue.
        assert settings.webhook_secret is not None
        route = telegram.telegram_webhook_route(application, settings.webhook_secret.get_secret_value())

    async def start_telegram() -> None:
        nonlocal runner, polling_lock
        try:
            if mode is Mode.POLLING:  # Telegram allows one getUpdates consumer: a second would steal updates
                polling_lock = await acquire_polling_lock(settings.database_url, settings.data_dir)
            # With a shared database the replicas do not register (`python -m bot setup` does, once).
            runner = await telegram.start_telegram(
                settings, service, application=application, register=settings.database_url is None
            )
        except Exception as exc:
            logger.error("telegram: cannot start (%s: %s); stopping", type(exc).__name__, exc)
            raise

    async def stop_telegram() -> None:
        nonlocal runner, polling_lock
        if runner is not None:
            await runner.stop()
            runner = None
        if polling_lock is not None:
            await polling_lock.release()
            polling_lock = None

    return create_app(
        service,
        settings,
        telegram_route=route,
        metrics=metrics,
        dispatcher=dispatcher,
        reloader=reloader,
        startup=[start_reloads, start_telegram],
        shutdown=[stop_reloads, stop_telegram],
    )


@contextmanager
def _sigterm_as_clean_exit() -> Iterator[None]:
    """Let uvicorn shut down gracefully on SIGTERM, then return normally instead of dying by the signal.

    uvicorn re-raises the signal it caught once it has shut down; a handler that ignores it here turns
    `docker stop` into exit status 0. SIGINT keeps its default (KeyboardInterrupt, status 130).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def ignore(signum: int, frame: FrameType | None) -> None:
        logger.debug("SIGTERM after shutdown ignored")

    previous = signal.signal(signal.SIGTERM, ignore)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(settings: Settings) -> int:
    """Load the engine (failing fast), then serve until SIGINT or SIGTERM; return the exit status."""
    if settings.mode is Mode.WEBHOOK:
        settings = settings.with_webhook_secret()  # first: a generated secret must be redacted from logs too
    configure_logging(settings)
    with long_lived():  # the engine is never scanned by a full collection (a 35 ms pause otherwise)
        try:
            engine = Engine.load(cache_dir=settings.cache_dir, data_dir=settings.knowledge_dir)
        except KnowledgeBaseError as exc:
            logger.error("cannot start: the knowledge base is invalid (run `python -m bot kb check`)\n%s", exc)
            return EXIT_FAIL
        app = build_app(settings, engine)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # keep our handlers: JSON lines and secret redaction apply to uvicorn's records too
        access_log=settings.log_level == "DEBUG",
        server_header=False,
        lifespan="on",
        timeout_graceful_shutdown=10,  # then open connections are closed, so a stop never hangs
        http=GuardedH11Protocol,  # a request head must arrive within 10 s; bodies are timed in read_body
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    server = uvicorn.Server(config)
    logger.info(
        "serving on http://%s:%d (%s mode, %d API key(s), escalation %s)",
        settings.host,
        settings.port,
        settings.mode.value,
        len(settings.api_keys),
        "on" if settings.escalation_webhook_url else "off",
    )
    try:
        with _sigterm_as_clean_exit():
            server.run()
    except SystemExit as exc:  # uvicorn exits when it cannot bind the port or the lifespan's startup fails
        logger.error("server failed to start (exit status %s)", exc.code)
        return EXIT_FAIL
    if not server.started:
        return EXIT_FAIL
    return EXIT_OK
