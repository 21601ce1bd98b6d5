"""Group commit of inbound events: one transaction for a burst, one job per new event."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from recovery.ingest import ingest_item
from storage.batch_ingest import BatchIngestWriter
from storage.db import Database
from storage.models import Job, StripeEventRow
from storage.queue import enqueue
from tests.fakes.stripe_events import build_event
from tests.fakes.stripe_server import load_fixture


def event(event_id: str) -> dict:
    return build_event("invoice.payment_failed", load_fixture("invoice"), event_id=event_id)


async def counts(db: Database) -> tuple[int, int]:
    async with db.sessions() as session:
        events = await session.scalar(select(func.count()).select_from(StripeEventRow))
        jobs = await session.scalar(select(func.count()).select_from(Job))
    return events or 0, jobs or 0


async def test_a_burst_is_stored_with_one_job_per_new_event(db: Database) -> None:
    writer = BatchIngestWriter(db)
    ids = [f"evt_{n}" for n in range(40)] + ["evt_3", "evt_7"]  # two repeats in the burst
    results = await asyncio.gather(*(writer.submit(ingest_item(event(i))) for i in ids))
    await writer.close()
    assert sum(results) == 40 and results[-2:] == [False, False]
    assert await counts(db) == (40, 40)
    again = BatchIngestWriter(db)
    assert await again.submit(ingest_item(event("evt_0"))) is False
    await again.close()
    assert await counts(db) == (40, 40)


async def test_a_conflict_from_another_writer_falls_back_to_one_by_one(db: Database) -> None:
    # Another process enqueued the job of evt_race after our batch looked for known events.
    async with db.transaction() as session:
        await enqueue(
            session,
            kind="process_stripe_event",
            payload={"event_id": "evt_race"},
            dedupe_key="stripe_event:evt_race",
        )
    writer = BatchIngestWriter(db)
    results = await asyncio.gather(
        writer.submit(ingest_item(event("evt_race"))), writer.submit(ingest_item(event("evt_ok")))
    )
    await writer.close()
    assert results == [True, True]
    assert await counts(db) == (2, 2)  # no duplicate job for evt_race, evt_ok got its job
