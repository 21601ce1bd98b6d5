"""Group commit for inbound events: concurrent deliveries share one transaction.

Each request still gets its answer only after its own event and job rows are committed, so a
2xx always means "durably stored"; but N requests arriving together cost one transaction
instead of N. Duplicates (already stored, or twice in one batch) are detected and report
`is_new=False`; exactly one job is enqueued per new event.

On a SQLite file, batches are written by one dedicated thread through a plain sqlite3
connection (one thread hand-off per batch; SQLite releases the GIL while it works) instead of
SQLAlchemy + aiosqlite, which cost ~2.5x more CPU per event. Values are formatted by the
models' own column types, so the rows are the ones the ORM writes; the event payload is the
delivery's JSON text itself, which reads back through the JSON type as the same dict.
PostgreSQL batches go through SQLAlchemy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects.sqlite import aiosqlite
from sqlalchemy.exc import IntegrityError

from storage.db import (
    JOBS_ENQUEUED_FLAG,
    SQLITE_BUSY_TIMEOUT_MS,
    Database,
    prepare_sqlite_connection,
)
from storage.models import Job, JobStatus, StripeEventRow, utcnow
from storage.queue import enqueue
from storage.stripe_events import store_event

log = logging.getLogger("dunbot.ingest")

DEFAULT_MAX_ATTEMPTS = 8


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
    # `payload` as JSON text, exactly as delivered (stored as is on SQLite); None: serialise it.
    payload_json: str | None = None


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
            except Exception as error:  # noqa: BLE001 - each waiting request gets the error
                log.exception("ingest batch failed", extra={"size": len(batch)})
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, future), is_new in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(is_new)

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

    async def _write_one(self, item: IngestItem) -> bool:
        async with self.db.transaction() as session:
            is_new = await store_event(
                session,
                event_id=item.event_id,
                event_type=item.event_type,
                object_id=item.object_id,
                stripe_created=item.stripe_created,
                payload=item.payload,
            )
            if is_new:
                await enqueue(
                    session,
                    kind=item.job_kind,
                    payload=item.job_payload,
                    dedupe_key=item.job_dedupe_key,
                    serial_key=item.job_serial_key,
                    max_attempts=DEFAULT_MAX_ATTEMPTS,
                )
        return is_new

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
                await session.execute(
                    insert(StripeEventRow),
                    [
                        {
                            "id": i.event_id,
                            "type": i.event_type,
                            "object_id": i.object_id,
                            "stripe_created": i.stripe_created,
                            "payload": i.payload,
                            "received_at": now,
                        }
                        for i in fresh
                    ],
                )
                await session.execute(
                    insert(Job),
                    [
                        {
                            "kind": i.job_kind,
                            "payload": i.job_payload,
                            "status": JobStatus.QUEUED,
                            "dedupe_key": i.job_dedupe_key,
                            "serial_key": i.job_serial_key,
                            "run_at": now,
                            "created_at": now,
                            "attempts": 0,
                            "max_attempts": DEFAULT_MAX_ATTEMPTS,
                        }
                        for i in fresh
                    ],
                )
                session.info[JOBS_ENQUEUED_FLAG] = True
        return results


# The models' column types as SQLAlchemy binds them on SQLite: the exact values it stores.
_SQLITE = aiosqlite.dialect()
_sqlite_datetime = StripeEventRow.received_at.type.dialect_impl(_SQLITE).bind_processor(_SQLITE)
_sqlite_json = StripeEventRow.payload.type.dialect_impl(_SQLITE).bind_processor(_SQLITE)
assert _sqlite_datetime is not None and _sqlite_json is not None
_INSERT_EVENT = (
    "INSERT INTO stripe_events (id, type, object_id, stripe_created, payload, received_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_JOB = (
    "INSERT INTO jobs (kind, payload, status, dedupe_key, serial_key, attempts, max_attempts, "
    "run_at, created_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING"
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
        ids = list({item.event_id for item in items})
        now = _sqlite_datetime(utcnow())
        connection.execute("BEGIN IMMEDIATE")
        try:
            rows = connection.execute(
                f"SELECT id FROM stripe_events WHERE id IN ({', '.join('?' * len(ids))})", ids
            )
            results, fresh = split_new(items, {row[0] for row in rows})
            connection.executemany(
                _INSERT_EVENT,
                [
                    (
                        i.event_id,
                        i.event_type,
                        i.object_id,
                        i.stripe_created,
                        _sqlite_json(i.payload) if i.payload_json is None else i.payload_json,
                        now,
                    )
                    for i in fresh
                ],
            )
            connection.executemany(
                _INSERT_JOB,
                [
                    (
                        i.job_kind,
                        _sqlite_json(i.job_payload),
                        JobStatus.QUEUED.value,
                        i.job_dedupe_key,
                        i.job_serial_key,
                        DEFAULT_MAX_ATTEMPTS,
                        now,
                        now,
                    )
                    for i in fresh
                ],
            )
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
