"""Async engine and unit-of-work sessions from DATABASE_URL (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextvars
import fcntl
import os
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
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
        # ... and across processes (`dunbot serve`'s web and worker child share the file): a
        # lock file whose waiters the kernel wakes at once, where SQLite's busy handler polls
        # (sleeping up to 100 ms) and lets a busy process's back-to-back writers starve the
        # other's: a busy worker held the webhook's writes for seconds.
        self._writer_file = _WriterFileLock(self.sqlite_path) if self.sqlite_path else None
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
            if self._writer_file is None:
                yield
            else:
                await self._writer_file.acquire(timeout_s=SQLITE_BUSY_TIMEOUT_MS / 1000)
                try:
                    yield
                finally:
                    self._writer_file.release()
        finally:
            self._sqlite_writer.release()

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._writer_file is not None:
            self._writer_file.close()


class _WriterFileLock:
    """Exclusive flocks beside the database, shared by every process on the file.

    Held only inside this process's write turn (one holder per process at a time). A writer
    first passes a turnstile (`<database>-writers.lock`), then takes the writer lock
    (`<database>-writer.lock`) and lets go of the turnstile: a process that waits holds the
    turnstile, so the other process's next writer cannot barge in ahead of it when the lock
    is released (flock wakes waiters but hands nothing over). Taken without a thread when
    free, else waited for in a thread. flock and SQLite's own POSIX locks are independent.
    """

    def __init__(self, database_path: str) -> None:
        if database_path.startswith("file:"):  # a URI filename (file:/path?mode=ro)
            database_path = database_path.removeprefix("file:").split("?", 1)[0]
        self._paths = (f"{database_path}-writers.lock", f"{database_path}-writer.lock")
        self._fds: tuple[int, int] | None = None
        self._unusable = False  # no lock files here (read-only place): SQLite's busy handler
        self._waiter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer-lock")

    def _open(self) -> tuple[int, int]:
        if self._fds is None:
            turnstile, writer = (os.open(p, os.O_RDWR | os.O_CREAT, 0o600) for p in self._paths)
            self._fds = (turnstile, writer)
        return self._fds

    async def acquire(self, *, timeout_s: float) -> None:
        if self._unusable:
            return
        try:
            turnstile, writer = self._open()
        except OSError:
            self._unusable = True
            return
        async with asyncio.timeout(timeout_s):
            await self._lock(turnstile)
            try:
                await self._lock(writer)
            finally:
                fcntl.flock(turnstile, fcntl.LOCK_UN)

    async def _lock(self, fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        waiting = asyncio.get_running_loop().run_in_executor(
            self._waiter, fcntl.flock, fd, fcntl.LOCK_EX
        )
        try:
            await asyncio.shield(waiting)
        except BaseException:
            # Timed out or cancelled: the thread still waits; let go once it gets the lock.
            waiting.add_done_callback(lambda _done: fcntl.flock(fd, fcntl.LOCK_UN))
            raise

    def release(self) -> None:
        if self._fds is not None and not self._unusable:
            fcntl.flock(self._fds[1], fcntl.LOCK_UN)

    def close(self) -> None:
        self._waiter.shutdown(wait=False)
        if self._fds is not None:
            for fd in self._fds:
                os.close(fd)
            self._fds = None


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
