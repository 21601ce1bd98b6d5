"""Group commit for inbound events: concurrent deliveries share one transaction.

Each request still gets its answer only after its own event and job rows are committed, so a
2xx always means "durably stored"; but N requests arriving together cost one transaction
instead of N. Duplicates (already stored, or twice in one batch) are detected and report
`is_new=False`; exactly one job is enqueued per new event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from storage.db import JOBS_ENQUEUED_FLAG, Database
from storage.models import Job, JobStatus, StripeEventRow, utcnow
from storage.queue import enqueue
from storage.stripe_events import store_event

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


class BatchIngestWriter:
    """Collects submitted items while a batch is being written, then writes the next batch."""

    def __init__(self, db: Database, *, max_batch: int = 256) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: asyncio.Queue[tuple[IngestItem, asyncio.Future[bool]]] | None = None
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: IngestItem) -> bool:
        """Store the event and its job (unless known). True when the event is new."""
        if self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.create_task(self._run(), name="batch-ingest")
        assert self._queue is not None
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, future))
        return await future

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

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
            fresh: dict[str, IngestItem] = {}
            results = []
            for item in items:
                is_new = item.event_id not in known and item.event_id not in fresh
                if is_new:
                    fresh[item.event_id] = item
                results.append(is_new)
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
                        for i in fresh.values()
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
                            "max_attempts": 8,
                        }
                        for i in fresh.values()
                    ],
                )
                session.info[JOBS_ENQUEUED_FLAG] = True
        return results
