"""Async engine and unit-of-work sessions from DATABASE_URL (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

from sqlalchemy import CursorResult, Result, event, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

SQLITE_BUSY_TIMEOUT_MS = 10_000
JOBS_ENQUEUED_FLAG = "dunbot_jobs_enqueued"
# Set inside `Database.transaction()`: SQLite then begins IMMEDIATE (takes the write lock up
# front); plain reads through `sessions()` begin DEFERRED and never wait for writers (WAL).
_WRITING = contextvars.ContextVar("dunbot_sqlite_writing", default=False)
# The database and task of the `transaction()` this code runs in (tasks it starts inherit it).
_OPEN_TRANSACTION: contextvars.ContextVar[tuple[Database, asyncio.Task[Any] | None] | None] = (
    contextvars.ContextVar("dunbot_open_transaction", default=None)
)


class NestedTransactionError(RuntimeError):
    """`Database.transaction()` was opened inside another transaction of the same database."""


class Database:
    """An engine plus a session factory; `transaction()` is the unit of work."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        database = make_url(url).database if self.is_sqlite else None
        # The SQLite file, for code that opens its own sqlite3 connection (not in-memory).
        self.sqlite_path = database if database and database != ":memory:" else None
        # hide_parameters: SQLAlchemy's error text never carries the bound values (customer
        # names, emails, draft bodies), so neither logs nor a job's stored error do.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        else:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self._commit_listeners: list[Callable[[], None]] = []
        # SQLite has one writer at a time. Queue this process's writers here, in order, rather
        # than in SQLite's busy handler, which sleeps up to 100 ms between retries.
        self._sqlite_writer = asyncio.Lock() if self.is_sqlite else None
        session_class = type("DunbotSession", (Session,), {})
        event.listen(session_class, "after_commit", self._after_commit)
        self._sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=session_class
        )

    def on_jobs_committed(self, callback: Callable[[], None]) -> None:
        """Call `callback` after every commit that enqueued a job (in-process worker wake-up)."""
        self._commit_listeners.append(callback)

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(JOBS_ENQUEUED_FLAG, False):
            self.notify_jobs_committed()

    def notify_jobs_committed(self) -> None:
        """Run the `on_jobs_committed` callbacks (for commits made outside `transaction()`)."""
        for callback in self._commit_listeners:
            callback()

    @asynccontextmanager
    async def sessions(self) -> AsyncIterator[AsyncSession]:
        """A session for reads. On SQLite its transactions begin DEFERRED, so it never waits
        for a writer (WAL readers see the last commit), even when opened inside a write."""
        token = _WRITING.set(False)
        try:
            async with self._sessionmaker() as session:
                yield session
        finally:
            _WRITING.reset(token)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: commit on success, roll back on error.

        On SQLite the transaction starts with BEGIN IMMEDIATE (reads elsewhere start DEFERRED
        and never wait), so writers queue on the busy
        timeout instead of failing mid-transaction with 'database is locked'; writers of this
        process queue first on an asyncio lock (FIFO, no busy-handler sleeps). A transaction
        opened inside another of the same database (same task) raises NestedTransactionError
        at once: on SQLite the inner one would wait for the outer until the busy timeout.
        """
        task = asyncio.current_task()
        if _OPEN_TRANSACTION.get() == (self, task):
            raise NestedTransactionError(
                "Database.transaction() opened inside another transaction: pass the outer "
                "session down instead (or use sessions() for a read)"
            )
        async with self.write_turn():
            token = _WRITING.set(True)
            open_token = _OPEN_TRANSACTION.set((self, task))
            try:
                async with self._sessionmaker() as session:
                    async with session.begin():
                        yield session
            finally:
                _OPEN_TRANSACTION.reset(open_token)
                _WRITING.reset(token)

    @asynccontextmanager
    async def write_turn(self) -> AsyncIterator[None]:
        """This process's turn to write (SQLite only; a no-op on PostgreSQL), within the busy
        timeout. Writing to SQLite outside `transaction()` (another connection) takes it too."""
        if self._sqlite_writer is None:
            yield
            return
        try:
            async with asyncio.timeout(SQLITE_BUSY_TIMEOUT_MS / 1000):
                await self._sqlite_writer.acquire()
        except TimeoutError:
            raise TimeoutError(
                f"no SQLite write turn within {SQLITE_BUSY_TIMEOUT_MS} ms "
                "(a long transaction, or one opened inside another?)"
            ) from None
        try:
            yield
        finally:
            self._sqlite_writer.release()

    async def dispose(self) -> None:
        await self.engine.dispose()


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, a busy timeout, foreign keys, and writer transactions that take the lock up front."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        prepare_sqlite_connection(dbapi_connection)

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _WRITING.get() else "BEGIN")


def prepare_sqlite_connection(dbapi_connection: Any) -> None:
    """The settings of every dunbot SQLite connection (SQLAlchemy's, or a plain sqlite3 one)."""
    # The caller emits BEGIN itself (pysqlite's implicit transactions are off).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def rows_affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (`execute()` is typed as a plain Result)."""
    return cast("CursorResult[Any]", result).rowcount
