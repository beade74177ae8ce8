"""The durable store: questions, the escalation outbox, Telegram's updates and conversation state.

SQLAlchemy Core on an async driver: aiosqlite (one WAL file under DATA_DIR, the default) or asyncpg (PostgreSQL,
for several replicas). One schema and one code path; Alembic migrations run when the store opens.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import Connection, and_, delete, event, func, inspect, or_, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.store.records import (
    Conversation,
    Feedback,
    OutboxItem,
    OutboxStatus,
    QuestionRecord,
    ReviewDecision,
    StoredUpdate,
)
from bot.store.schema import (
    SCHEMA_REVISION,
    conversations,
    feedback,
    outbox,
    questions,
    review_decisions,
    telegram_updates,
)

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_FILE = "assistant.db"


class StoreError(RuntimeError):
    """The store cannot be opened or used: the message says what and where, never a password."""


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def database_url(data_dir: Path, url: str | None) -> str:
    """Return the SQLAlchemy async URL: DATABASE_URL (postgresql://… → asyncpg), else SQLite under data_dir."""
    if not url:
        return f"sqlite+aiosqlite:///{(data_dir / SQLITE_FILE).as_posix()}"
    scheme, sep, rest = url.partition("://")
    driver = {"postgres": "postgresql+asyncpg", "postgresql": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}
    return f"{driver.get(scheme.lower(), scheme)}{sep}{rest}"


SQLITE_BUSY_MS = 5000
"""How long a SQLite writer waits for another process's write (this process's writers take turns in `_begin`)."""


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a commit survives a process crash (kill -9)
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.close()


def _current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None  # a new database
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _run_migrations(connection: Connection) -> None:
    if _current_revision(connection) == SCHEMA_REVISION:
        return  # up to date: Alembic (a tenth of a second to import) is not needed
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


class FastWrites:
    """The hot path's three INSERTs as plain SQL for the driver, built from the Core tables (one definition).

    Values are adapted as SQLAlchemy stores them (SQLite: UTC datetimes as text, JSON as text), so every other
    query reads them back through SQLAlchemy unchanged.
    """

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.question = self._sql(questions)
        self.question_once = self._sql(questions, "ON CONFLICT (message_key) DO NOTHING")
        self.outbox = self._sql(outbox)
        self.conversation = self._sql(
            conversations, "ON CONFLICT (key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at"
        )
        self._columns = {t.name: [c for c in t.columns] for t in (questions, outbox, conversations)}

    def _sql(self, table: Any, tail: str = "") -> str:
        names = [c.name for c in table.columns]
        marks = ["?"] * len(names) if self.dialect == "sqlite" else [f"${i}" for i in range(1, len(names) + 1)]
        quoted = ", ".join(f'"{n}"' for n in names)
        return f"INSERT INTO {table.name} ({quoted}) VALUES ({', '.join(marks)}) {tail}".strip()

    def _params(self, table: str, row: dict[str, Any]) -> list[Any]:
        out: list[Any] = []
        for column in self._columns[table]:
            value = row.get(column.name)
            if value is None:
                out.append(None)
            elif isinstance(value, datetime):
                if self.dialect == "sqlite":  # SQLAlchemy's SQLite DATETIME text, in UTC
                    value = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
                out.append(value)
            elif isinstance(value, dict | list):
                out.append(json.dumps(value, ensure_ascii=False))
            else:
                out.append(value)
        return out

    def steps(
        self, record: QuestionRecord, item: OutboxItem | None, conversation: Conversation | None
    ) -> list[tuple[str, list[Any]]]:
        """Return the statements and parameters of one record's transaction."""
        once = record.message_key is not None
        steps = [(self.question_once if once else self.question, self._params("questions", record.to_row()))]
        if item is not None:
            steps.append((self.outbox, self._params("outbox", item.to_row())))
        if conversation is not None:
            steps.append((self.conversation, self._params("conversations", conversation.to_row())))
        return steps

    def record_now(self, conn: sqlite3.Connection, steps: list[tuple[str, list[Any]]], once: bool) -> bool | None:
        """Try the transaction at once on a blocking SQLite connection; None when another writer holds the
        database (the caller then takes the waiting path). Takes tens of microseconds: no thread hop."""
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return None
            raise
        try:
            if conn.execute(*steps[0]).rowcount == 0 and once:
                conn.execute("ROLLBACK")
                return False
            for sql, params in steps[1:]:
                conn.execute(sql, params)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return True

    async def record(
        self, raw: Any, record: QuestionRecord, item: OutboxItem | None, conversation: Conversation | None
    ) -> bool:
        """Write a question, its escalation and its chat's state in one transaction; False for a repeat."""
        once = record.message_key is not None
        steps = self.steps(record, item, conversation)
        if self.dialect == "sqlite":
            try:
                cursor = await raw.execute(steps[0][0], steps[0][1])
                if once and cursor.rowcount == 0:
                    await raw.rollback()
                    return False
                for sql, params in steps[1:]:
                    await raw.execute(sql, params)
                await raw.commit()
            except BaseException:
                await raw.rollback()
                raise
            return True
        async with raw.transaction():
            status = await raw.execute(steps[0][0], *steps[0][1])
            if once and status.endswith(" 0"):
                return False
            for sql, params in steps[1:]:
                await raw.execute(sql, *params)
        return True


class Store:
    """Typed access to the store; every method is one short transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: AsyncEngine | None = None
        self._fast = FastWrites(self.dialect)
        self._writer: aiosqlite.Connection | None = None
        self._now: sqlite3.Connection | None = None
        """SQLite: a blocking connection that never waits (busy_timeout 0), for the reply path."""
        self._write_lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, data_dir: Path, database_url_setting: str | None) -> Store:
        """Return a (not yet opened) store for DATA_DIR / DATABASE_URL."""
        return cls(database_url(data_dir, database_url_setting))

    @property
    def dialect(self) -> str:
        """Return "sqlite" or "postgresql"."""
        return make_url(self.url).get_backend_name()

    @property
    def where(self) -> str:
        """Return the database's location, safe to log (no password)."""
        return make_url(self.url).render_as_string(hide_password=True)

    @asynccontextmanager
    async def _begin(self) -> AsyncIterator[AsyncConnection]:
        """Open a write transaction. On SQLite, this process's writers take turns here first: SQLite has one
        writer at a time and holds its lock across the event loop's hops between statements, so under load a
        writer left to SQLite's busy timeout could fail (an acknowledged Telegram update went unstored that way)."""
        turn = self._write_lock if self._fast.dialect == "sqlite" else contextlib.nullcontext()
        async with turn, self.engine.begin() as conn:
            yield conn

    @property
    def engine(self) -> AsyncEngine:
        """Return the open engine; StoreError before `open()`."""
        if self._engine is None:
            raise StoreError("the store is not open")
        return self._engine

    async def open(self) -> None:
        """Connect, create the SQLite folder when needed, and run the migrations up to the newest."""
        if self._engine is not None:
            return
        url = make_url(self.url)
        if self.dialect == "sqlite":
            if url.database and url.database != ":memory:":
                try:
                    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(f"cannot create the data folder for {url.database}: {exc.strerror}") from None
            # Transactions always end in commit or rollback (engine.begin()), so no reset round trip on return.
            engine = create_async_engine(url, pool_size=4, max_overflow=4, pool_reset_on_return=None)
            event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        else:
            engine = create_async_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(_run_migrations)
        except (SQLAlchemyError, OSError) as exc:
            await engine.dispose()
            raise StoreError(f"cannot open the store at {self.where}: {type(exc).__name__}: {exc}") from None
        if self.dialect == "sqlite" and url.database and url.database != ":memory:":
            try:
                pending = aiosqlite.connect(url.database)
                worker = getattr(pending, "_thread", None)  # aiosqlite's worker thread, not started yet
                if isinstance(worker, threading.Thread):
                    worker.daemon = True  # a store left open must never keep the process from exiting
                self._writer = await pending
                for pragma in ("journal_mode=WAL", "synchronous=NORMAL", f"busy_timeout={SQLITE_BUSY_MS}"):
                    await self._writer.execute(f"PRAGMA {pragma}")
                self._now = sqlite3.connect(url.database, isolation_level=None, timeout=0)
                self._now.execute("PRAGMA synchronous=NORMAL")
            except Exception as exc:
                await engine.dispose()
                raise StoreError(f"cannot open the store at {self.where}: {type(exc).__name__}: {exc}") from None
        self._engine = engine
        logger.info("store open: %s", self.where)

    async def close(self) -> None:
        """Close every connection."""
        if self._writer is not None:
            await self._writer.close()
            self._writer = None
        if self._now is not None:
            self._now.close()
            self._now = None
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def truncate_all(self) -> None:
        """Delete every row of every table (tests reuse one database)."""
        async with self._begin() as conn:
            for table in (questions, outbox, telegram_updates, conversations, feedback, review_decisions):
                await conn.execute(delete(table))

    async def listen(
        self, channel: str, on_message: Callable[[str], None], on_lost: Callable[[], None] | None = None
    ) -> Callable[[], Awaitable[None]] | None:
        """PostgreSQL: call on_message(payload) for every NOTIFY on channel, on a connection held for it, and
        on_lost() if that connection ends under it (the server restarted); return what stops listening. None on
        SQLite: one host, one process at a time, nobody else to hear."""
        if self.dialect != "postgresql":
            return None
        conn = await self.engine.connect()
        try:
            raw: Any = (await conn.get_raw_connection()).driver_connection  # asyncpg's own connection

            def heard(_connection: object, _pid: int, _channel: str, payload: str) -> None:
                on_message(payload)

            def ended(_connection: object) -> None:
                if on_lost is not None:
                    on_lost()

            await raw.add_listener(channel, heard)
            raw.add_termination_listener(ended)
        except BaseException:
            await conn.close()
            raise

        async def stop() -> None:
            raw.remove_termination_listener(ended)  # stopping on purpose is not losing it
            with contextlib.suppress(Exception):
                await raw.remove_listener(channel, heard)
            with contextlib.suppress(Exception):  # a connection the server ended is gone already
                await conn.close()

        return stop

    async def notify(self, channel: str, payload: str) -> None:
        """PostgreSQL: tell every session listening on channel (NOTIFY); nothing on SQLite."""
        if self.dialect != "postgresql":
            return
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload})
            await conn.commit()

    async def ping(self) -> None:
        """Run a trivial query; raises when the database cannot be reached."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    def _insert(self, table: Any) -> Any:
        """Return the dialect's INSERT, which knows ON CONFLICT (imported here: PostgreSQL's costs 20 ms)."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)

    # -- questions -----------------------------------------------------------------------------------

    async def record_question(
        self,
        record: QuestionRecord,
        *,
        outbox_item: OutboxItem | None = None,
        conversation: Conversation | None = None,
    ) -> bool:
        """Insert a question with, in the same transaction, its escalation and its chat's new state.

        Returns False (and writes nothing) when a record with the same message key exists: a retried message.
        """
        # The reply waits on this write: it goes straight to the driver (SQLAlchemy's statement pipeline would
        # cost about 1 ms a reply); everything else uses SQLAlchemy Core. SQLite has one writer at a time anyway:
        # a dedicated connection under a lock saves the pool's checkout too.
        if self._now is not None and not self._write_lock.locked():
            done = self._fast.record_now(
                self._now, self._fast.steps(record, outbox_item, conversation), record.message_key is not None
            )
            if done is not None:
                return done
        if self._writer is not None:  # the database is busy: wait for it off the event loop
            async with self._write_lock:
                return await self._fast.record(self._writer, record, outbox_item, conversation)
        async with self.engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            return await self._fast.record(raw, record, outbox_item, conversation)

    async def question(self, record_id: str) -> QuestionRecord | None:
        """Return one record by id, or None."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(questions).where(questions.c.id == record_id))).mappings().first()
        return None if row is None else QuestionRecord.from_row(row)

    async def questions_since(self, since: datetime, *, limit: int = 1_000_000) -> list[QuestionRecord]:
        """Return the records asked at or after since, oldest first."""
        stmt = select(questions).where(questions.c.asked_at >= since).order_by(questions.c.asked_at).limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [QuestionRecord.from_row(r) for r in rows]

    async def count_questions(self) -> int:
        """Return how many question records are stored."""
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(questions))).scalar_one())

    async def prune(self, days: int, *, now: datetime | None = None) -> int:
        """Delete question records older than days (and finished outbox rows and updates); return how many."""
        cutoff = (now or utcnow()) - timedelta(days=days)
        async with self._begin() as conn:
            removed = (await conn.execute(delete(questions).where(questions.c.asked_at < cutoff))).rowcount
            await conn.execute(
                delete(outbox).where(and_(outbox.c.status == OutboxStatus.DELIVERED, outbox.c.created_at < cutoff))
            )
            await conn.execute(
                delete(telegram_updates).where(
                    and_(telegram_updates.c.status == "done", telegram_updates.c.received_at < cutoff)
                )
            )
            await conn.execute(delete(conversations).where(conversations.c.updated_at < cutoff))
        return int(removed)

    # -- feedback --------------------------------------------------------------------------------------

    async def put_feedback(self, vote: Feedback) -> None:
        """Store a vote, replacing the same voter's earlier vote on the same record."""
        stmt = self._insert(feedback).values(vote.to_row())
        stmt = stmt.on_conflict_do_update(
            index_elements=["question_id", "voter"],
            set_={"vote": stmt.excluded.vote, "reason": stmt.excluded.reason, "updated_at": stmt.excluded.updated_at},
        )
        async with self._begin() as conn:
            await conn.execute(stmt)

    async def feedback_since(self, since: datetime) -> list[tuple[str, str, str | None]]:
        """Return (question_id, vote, reason) of every vote cast or changed since."""
        stmt = select(feedback.c.question_id, feedback.c.vote, feedback.c.reason).where(feedback.c.updated_at >= since)
        async with self.engine.connect() as conn:
            return [(r[0], r[1], r[2]) for r in (await conn.execute(stmt)).all()]

    # -- the admin console's review decisions --------------------------------------------------------

    async def put_review_decision(self, decision: ReviewDecision) -> None:
        """Remember a decision on a review item; a later decision on the same item replaces it."""
        stmt = self._insert(review_decisions).values(decision.to_row())
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"decision": stmt.excluded.decision, "decided_at": stmt.excluded.decided_at},
        )
        async with self._begin() as conn:
            await conn.execute(stmt)

    async def review_decisions(self) -> list[ReviewDecision]:
        """Return every remembered review decision, oldest first."""
        stmt = select(review_decisions).order_by(review_decisions.c.decided_at)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [ReviewDecision.from_row(r) for r in rows]

    # -- conversations -------------------------------------------------------------------------------

    async def latest_in_conversation(self, key: str) -> str | None:
        """Return the id of a chat's newest record, or None."""
        stmt = (
            select(questions.c.id).where(questions.c.conversation == key).order_by(questions.c.asked_at.desc()).limit(1)
        )
        async with self.engine.connect() as conn:
            return (await conn.execute(stmt)).scalar()

    async def conversation(self, key: str, *, ttl_seconds: int) -> Conversation | None:
        """Return a chat's state when it was updated within ttl_seconds, else None."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(conversations).where(conversations.c.key == key))).mappings().first()
        if row is None:
            return None
        state = Conversation.from_row(row)
        return state if utcnow() - state.updated_at <= timedelta(seconds=ttl_seconds) else None

    # -- the escalation outbox -----------------------------------------------------------------------

    async def claim_outbox(self, *, limit: int, lease_seconds: float) -> list[OutboxItem]:
        """Take up to limit due items for this process, leased for lease_seconds (expired leases are retaken).

        PostgreSQL: `FOR UPDATE SKIP LOCKED`, so replicas never take the same item. SQLite: one writer at a
        time, so a conditional UPDATE of the selected ids is enough.
        """
        now = utcnow()
        due = and_(
            outbox.c.status == OutboxStatus.PENDING,
            outbox.c.next_attempt_at <= now,
            or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
        )
        pick = select(outbox.c.id).where(due).order_by(outbox.c.next_attempt_at).limit(limit)
        if self.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        # One statement: on SQLite it takes the write lock at once (no read-then-write upgrade to fail).
        # A materialised CTE: PostgreSQL may otherwise run a LIMIT subquery inside IN () more than once and
        # claim more rows than asked for.
        picked = pick.cte("picked").prefix_with("MATERIALIZED")
        stmt = (
            update(outbox)
            .where(outbox.c.id.in_(select(picked.c.id)))
            .values(claimed_until=now + timedelta(seconds=lease_seconds))
            .returning(*outbox.c)
        )
        async with self._begin() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [OutboxItem.from_row(r) for r in rows]

    async def outbox_delivered(self, *item_ids: str) -> None:
        """Mark items delivered."""
        now = utcnow()
        async with self._begin() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(item_ids))
                .values(
                    status=OutboxStatus.DELIVERED, delivered_at=now, claimed_until=None, attempts=outbox.c.attempts + 1
                )
            )

    async def outbox_failed(self, item_id: str, *, error: str, retry_at: datetime | None) -> None:
        """Count a failed attempt: due again at retry_at, or parked as dead when retry_at is None."""
        values: dict[str, Any] = {"attempts": outbox.c.attempts + 1, "last_error": error[:500], "claimed_until": None}
        if retry_at is None:
            values["status"] = OutboxStatus.DEAD
        else:
            values["next_attempt_at"] = retry_at
        async with self._begin() as conn:
            await conn.execute(update(outbox).where(outbox.c.id == item_id).values(**values))

    async def outbox_items(self, statuses: Sequence[str], *, limit: int = 1000) -> list[OutboxItem]:
        """Return items in the given statuses, oldest first."""
        stmt = select(outbox).where(outbox.c.status.in_(list(statuses))).order_by(outbox.c.created_at).limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [OutboxItem.from_row(r) for r in rows]

    async def outbox_counts(self) -> dict[str, int]:
        """Return the number of outbox items per status."""
        stmt = select(outbox.c.status, func.count()).group_by(outbox.c.status)
        async with self.engine.connect() as conn:
            return {status: int(n) for status, n in (await conn.execute(stmt)).all()}

    async def retry_dead(self) -> int:
        """Requeue every dead item (attempts start over); return how many."""
        async with self._begin() as conn:
            result = await conn.execute(
                update(outbox)
                .where(outbox.c.status == OutboxStatus.DEAD)
                .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=utcnow(), claimed_until=None)
            )
        return int(result.rowcount)

    # -- Telegram's updates ----------------------------------------------------------------------------

    async def accept_update(self, update: StoredUpdate, *, lease_seconds: float) -> bool:
        """Store an update, leased to this process; False when that update_id was stored before (a repeat)."""
        now = utcnow()
        row = {
            "update_id": update.update_id,
            "payload": update.payload,
            "received_at": now,
            "status": "pending",
            "attempts": 0,
            "claimed_until": now + timedelta(seconds=lease_seconds),
        }
        stmt = self._insert(telegram_updates).values(row).on_conflict_do_nothing(index_elements=["update_id"])
        async with self._begin() as conn:
            return bool((await conn.execute(stmt)).rowcount)

    async def claim_stale_updates(self, limit: int, *, lease_seconds: float) -> list[StoredUpdate]:
        """Take pending updates whose lease ran out (their process died), oldest first."""
        now = utcnow()
        stale = and_(
            telegram_updates.c.status == "pending",
            or_(telegram_updates.c.claimed_until.is_(None), telegram_updates.c.claimed_until < now),
        )
        pick = select(telegram_updates.c.update_id).where(stale).order_by(telegram_updates.c.update_id).limit(limit)
        if self.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        stmt = (
            update(telegram_updates)
            .where(telegram_updates.c.update_id.in_(select(pick.cte("picked").prefix_with("MATERIALIZED").c.update_id)))
            .values(claimed_until=now + timedelta(seconds=lease_seconds), attempts=telegram_updates.c.attempts + 1)
            .returning(telegram_updates.c.update_id, telegram_updates.c.payload)
        )
        async with self._begin() as conn:
            rows = sorted((await conn.execute(stmt)).all())
        return [StoredUpdate(int(r[0]), str(r[1])) for r in rows]

    async def release_updates(self, update_ids: list[int]) -> None:
        """Free the leases of updates taken but not started, so any replica may take them now."""
        if not update_ids:
            return
        async with self._begin() as conn:
            await conn.execute(
                update(telegram_updates)
                .where(and_(telegram_updates.c.update_id.in_(update_ids), telegram_updates.c.status == "pending"))
                .values(claimed_until=None)
            )

    async def update_done(self, update_id: int) -> None:
        """Mark an update answered."""
        async with self._begin() as conn:
            await conn.execute(
                update(telegram_updates)
                .where(telegram_updates.c.update_id == update_id)
                .values(status="done", done_at=utcnow(), claimed_until=None)
            )
