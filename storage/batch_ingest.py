"""Group commit for inbound events: concurrent deliveries share one transaction.

This is the one write path of a received event and its processing job, for every caller
(the webhook, the sandbox, the tests). Each request still gets its answer only after its own
event and job rows are committed, so a 2xx always means "durably stored"; but N requests
arriving together cost one transaction instead of N. Duplicates (already stored, or twice in
one batch) are detected and report `is_new=False`; exactly one job is enqueued per new event.
The rows come from `event_row` and `job_row`, the single source of their values and defaults.

On a SQLite file, batches are written by one dedicated thread through a plain sqlite3
connection (one thread hand-off per batch; SQLite releases the GIL while it works) instead of
SQLAlchemy + aiosqlite, which cost ~2.5x more CPU per event. Its statements are compiled from
the models' tables and its values bound by the models' own column types, so the rows are the
ones SQLAlchemy writes; the event payload is the delivery's JSON text itself, which reads back
through the JSON type as the same dict. Elsewhere (PostgreSQL) batches go through SQLAlchemy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Insert, bindparam, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.sqlite import aiosqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import (
    JOBS_ENQUEUED_FLAG,
    SQLITE_BUSY_TIMEOUT_MS,
    Database,
    prepare_sqlite_connection,
)
from storage.models import Job, StripeEventRow, utcnow
from storage.queue import job_row
from storage.stripe_events import event_row

log = logging.getLogger("dunbot.ingest")


@dataclass(frozen=True, slots=True)
class IngestItem:
    """One verified event and the job that processes it."""

    event_id: str
    event_type: str
    object_id: str | None
    stripe_created: int
    payload: dict[str, Any]
    job_kind: str
    job_payload: dict[str, Any]
    job_dedupe_key: str
    job_serial_key: str | None
    payload_json: str  # `payload` as JSON text (as delivered): stored as is on SQLite

    def rows(self, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
        """The event row and the job row this item becomes, received `now`."""
        event = event_row(
            event_id=self.event_id,
            event_type=self.event_type,
            object_id=self.object_id,
            stripe_created=self.stripe_created,
            payload=self.payload,
            now=now,
        )
        job = job_row(
            kind=self.job_kind,
            payload=self.job_payload,
            now=now,
            dedupe_key=self.job_dedupe_key,
            serial_key=self.job_serial_key,
        )
        return event, job


def split_new(items: Sequence[IngestItem], known: set[str]) -> tuple[list[bool], list[IngestItem]]:
    """Per item, whether its event is new (not `known`, not earlier in `items`); the new items."""
    fresh: dict[str, IngestItem] = {}
    results = []
    for item in items:
        is_new = item.event_id not in known and item.event_id not in fresh
        if is_new:
            fresh[item.event_id] = item
        results.append(is_new)
    return results, list(fresh.values())


class BatchIngestWriter:
    """Collects submitted items while a batch is being written, then writes the next batch."""

    def __init__(self, db: Database, *, max_batch: int = 256) -> None:
        self.db = db
        self.max_batch = max_batch
        self._sqlite = SqliteBatchThread(db.sqlite_path) if db.sqlite_path else None
        self._queue: asyncio.Queue[tuple[IngestItem, asyncio.Future[bool]]] | None = None
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: IngestItem) -> bool:
        """Store the event and its job (unless known). True when the event is new."""
        if self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.create_task(self._run(), name="batch-ingest")
        assert self._queue is not None
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        return await future

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._sqlite is not None:
            await self._sqlite.close()

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                results = await self._write([item for item, _ in batch])
            except Exception as error:  # noqa: BLE001 - settled below, item by item
                if len(batch) == 1:
                    self._fail(batch[0], error)
                    continue
                # One bad member must not fail its neighbours: write each alone.
                log.warning(
                    "ingest batch failed; writing its events one by one",
                    extra={"size": len(batch), "error": type(error).__name__},
                )
                for member in batch:
                    try:
                        [is_new] = await self._write([member[0]])
                    except Exception as member_error:  # noqa: BLE001 - its request gets it
                        self._fail(member, member_error)
                    else:
                        _settle(member[1], is_new)
                continue
            for (_, future), is_new in zip(batch, results, strict=True):
                _settle(future, is_new)

    @staticmethod
    def _fail(member: tuple[IngestItem, asyncio.Future[bool]], error: Exception) -> None:
        """Hand `error` to the member's request; log its type only (its text may hold data)."""
        item, future = member
        log.error(
            "event could not be stored",
            extra={"event_id": item.event_id, "error": type(error).__name__},
        )
        if not future.done():
            future.set_exception(error)

    async def _write(self, items: list[IngestItem]) -> list[bool]:
        if self._sqlite is not None:
            async with self.db.write_turn():  # in turn with this process's other writers
                results = await self._sqlite.write(items)
            if any(results):
                self.db.notify_jobs_committed()
            return results
        try:
            return await self._write_batch(items)
        except IntegrityError:
            # Another process stored one of these events meanwhile: settle them one by one.
            return [await self._write_one(item) for item in items]

    async def _write_batch(self, items: list[IngestItem]) -> list[bool]:
        ids = list({item.event_id for item in items})
        now = utcnow()
        async with self.db.transaction() as session:
            known = set(
                (
                    await session.scalars(
                        select(StripeEventRow.id).where(StripeEventRow.id.in_(ids))
                    )
                ).all()
            )
            results, fresh = split_new(items, known)
            if fresh:
                events, jobs = zip(*(item.rows(now) for item in fresh), strict=True)
                await session.execute(insert(StripeEventRow), list(events))
                await session.execute(insert(Job), list(jobs))
                session.info[JOBS_ENQUEUED_FLAG] = True
        return results

    async def _write_one(self, item: IngestItem) -> bool:
        async with self.db.transaction() as session:
            event, job = item.rows(utcnow())
            upsert = _insert_or_ignore(session)
            is_new = (
                await session.scalar(
                    upsert(StripeEventRow)
                    .values(event)
                    .on_conflict_do_nothing(index_elements=["id"])
                    .returning(StripeEventRow.id)
                )
                is not None
            )
            if is_new:
                await session.execute(
                    upsert(Job).values(job).on_conflict_do_nothing(index_elements=["dedupe_key"])
                )
                session.info[JOBS_ENQUEUED_FLAG] = True
        return is_new


def _settle(future: asyncio.Future[bool], is_new: bool) -> None:
    if not future.done():  # its request may have gone away (cancelled) meanwhile
        future.set_result(is_new)


def _insert_or_ignore(session: AsyncSession) -> Any:
    """The dialect's `insert` that supports ON CONFLICT DO NOTHING."""
    is_postgresql = session.bind is not None and session.bind.dialect.name == "postgresql"
    return postgresql.insert if is_postgresql else sqlite.insert


# The SQLite dialect SQLAlchemy uses for dunbot's SQLite URLs (sqlite+aiosqlite).
_SQLITE = aiosqlite.dialect()


class SqliteInsert:
    """An INSERT compiled from a model's table for the sqlite3 module, its parameters bound by
    the models' own column types (the values SQLAlchemy would store)."""

    def __init__(self, statement: Insert) -> None:
        self.statement = statement
        self._forms: dict[tuple[tuple[str, ...], frozenset[str]], _Form] = {}

    def parameters(
        self, rows: Sequence[Mapping[str, Any]], *, as_given: frozenset[str] = frozenset()
    ) -> tuple[str, list[Sequence[Any]]]:
        """The SQL inserting these rows' columns, and each row's parameters. Columns named in
        `as_given` skip their type's processing (they hold what it would produce: JSON text)."""
        if not rows:
            return "", []
        form = self._form(tuple(rows[0]), as_given)
        # Values the rows share (the batch's `now`) are processed once: (position, process,
        # the first row's value, its processed form).
        first = form.values(rows[0])
        processed = [(i, process, first[i], process(first[i])) for i, process in form.processors]
        parameters: list[Sequence[Any]] = []
        for row in rows:
            values = form.values(row)
            if processed:
                values = list(values)
                for index, process, shared, shared_processed in processed:
                    value = values[index]
                    values[index] = shared_processed if value is shared else process(value)
            parameters.append(values)
        return form.sql, parameters

    def _form(self, columns: tuple[str, ...], as_given: frozenset[str]) -> _Form:
        if (columns, as_given) not in self._forms:
            compiled = self.statement.compile(dialect=_SQLITE, column_keys=list(columns))
            keys = list(compiled.positiontup or [])
            processors: list[tuple[int, Callable[[Any], Any]]] = []
            for index, key in enumerate(keys):
                column_type = compiled.binds[key].type.dialect_impl(_SQLITE)
                process = column_type.bind_processor(_SQLITE)
                if process is not None and key not in as_given:
                    processors.append((index, process))
            getter = itemgetter(*keys)
            values = getter if len(keys) > 1 else lambda row: (getter(row),)
            self._forms[columns, as_given] = _Form(compiled.string, values, processors)
        return self._forms[columns, as_given]


@dataclass(frozen=True, slots=True)
class _Form:
    """One compiled INSERT: its SQL, its parameters in order, the processed ones by position."""

    sql: str
    values: Callable[[Mapping[str, Any]], Sequence[Any]]
    processors: list[tuple[int, Callable[[Any], Any]]]


_KNOWN_EVENTS = select(StripeEventRow.id).where(
    StripeEventRow.id.in_(select(func.json_each(bindparam("ids")).table_valued("value").c.value))
)
_KNOWN_EVENTS_SQL = _KNOWN_EVENTS.compile(dialect=_SQLITE).string
_INSERT_EVENTS = SqliteInsert(insert(StripeEventRow))
_PAYLOAD = frozenset({"payload"})
_INSERT_JOBS = SqliteInsert(
    sqlite.insert(Job).on_conflict_do_nothing(index_elements=["dedupe_key"])
)


class SqliteBatchThread:
    """Writes batches to a SQLite file on one dedicated thread, through its own connection.

    The caller holds the database's write turn; the transaction is BEGIN IMMEDIATE, so the
    known-events check and the inserts see no other writer in between.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._executor: ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None

    async def write(self, items: Sequence[IngestItem]) -> list[bool]:
        """Commit the new items' event and job rows; per item, whether its event was new."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-ingest")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._write, items)

    async def close(self) -> None:
        """Close the connection and end the thread (a later write starts them again)."""
        if self._executor is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
            self._executor.shutdown()
            self._executor = None

    def _write(self, items: Sequence[IngestItem]) -> list[bool]:
        connection = self._connection or self._connect()
        ids = json.dumps(list({item.event_id for item in items}))
        now = utcnow()
        connection.execute("BEGIN IMMEDIATE")
        try:
            rows = connection.execute(_KNOWN_EVENTS_SQL, (ids,))
            results, fresh = split_new(items, {row[0] for row in rows})
            if fresh:
                events, jobs = zip(*(item.rows(now) for item in fresh), strict=True)
                for event, item in zip(events, fresh, strict=True):
                    event["payload"] = item.payload_json
                connection.executemany(*_INSERT_EVENTS.parameters(events, as_given=_PAYLOAD))
                connection.executemany(*_INSERT_JOBS.parameters(jobs))
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return results

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        prepare_sqlite_connection(connection)
        self._connection = connection
        return connection

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
