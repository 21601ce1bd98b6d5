"""Group commit of inbound events: one transaction for a burst, one job per new event."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from recovery.ingest import ingest_item
from storage.batch_ingest import BatchIngestWriter
from storage.db import Database
from storage.models import Job, StripeEventRow
from storage.queue import claim, enqueue
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


async def test_a_job_already_enqueued_by_another_writer_is_not_duplicated(db: Database) -> None:
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


def delivered(event_id: str) -> tuple[dict, str]:
    """An event and its body as Stripe formats it (indented, non-ASCII characters as is)."""
    payload = event(event_id)
    payload["data"]["object"]["id"] = f"in_{event_id}"  # jobs of one invoice run one at a time
    payload["data"]["object"]["customer_name"] = 'Zoë Müller — 山田 \\ "quoted"'
    return payload, json.dumps(payload, indent=2, ensure_ascii=False)


async def test_stored_rows_are_the_models_rows(db: Database, backend: str) -> None:
    # One event stored from its delivered JSON text, one serialised by the model's JSON type;
    # on SQLite the batch goes through a plain sqlite3 connection, whose values must be the ones
    # SQLAlchemy writes (compared with a job enqueued through the ORM session).
    text_event, body = delivered("evt_text")
    dict_event, _ = delivered("evt_dict")
    writer = BatchIngestWriter(db)
    assert await writer.submit(ingest_item(text_event, payload_json=body)) is True
    assert await writer.submit(ingest_item(dict_event)) is True
    await writer.close()
    async with db.transaction() as session:
        await enqueue(session, kind="reference", payload={"event_id": "reference"})

    async with db.sessions() as session:
        events = {row.id: row for row in await session.scalars(select(StripeEventRow))}
        jobs = {job.payload["event_id"]: job for job in await session.scalars(select(Job))}
    now = datetime.now(UTC)
    for event_id, source in (("evt_text", text_event), ("evt_dict", dict_event)):
        row, job = events[event_id], jobs[event_id]
        assert (row.type, row.object_id, row.stripe_created, row.payload) == (
            source["type"],
            source["data"]["object"]["id"],
            source["created"],
            source,
        )
        assert row.result is None and row.processed_at is None
        assert now - timedelta(seconds=30) < row.received_at <= now
        assert (job.kind, job.status, job.attempts, job.max_attempts) == (
            "process_stripe_event",
            "queued",
            0,
            jobs["reference"].max_attempts,
        )
        assert job.dedupe_key == f"stripe_event:{event_id}"
        assert job.serial_key == f"invoice:{source['data']['object']['id']}"
        assert now - timedelta(seconds=30) < job.run_at <= now and job.created_at == job.run_at
        assert job.lease_expires_at is job.locked_by is job.started_at is job.finished_at is None

    if backend == "sqlite":  # the stored text itself: the formats SQLAlchemy writes
        async with db.sessions() as session:
            stored = {
                r.id: r
                for r in await session.execute(
                    text(
                        "SELECT e.id, e.payload, e.received_at, j.run_at, j.created_at, "
                        "j.payload AS job_payload, typeof(e.stripe_created) AS created_type "
                        "FROM stripe_events e JOIN jobs j ON j.dedupe_key = 'stripe_event:' || e.id"
                    )
                )
            }
            reference = (
                await session.execute(
                    text("SELECT run_at, created_at, payload FROM jobs WHERE kind = 'reference'")
                )
            ).one()
        timestamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
        assert all(timestamp.match(t) for t in (reference.run_at, reference.created_at))
        assert reference.payload == json.dumps({"event_id": "reference"})
        for r in stored.values():
            assert all(timestamp.match(t) for t in (r.received_at, r.run_at, r.created_at))
            assert r.job_payload == json.dumps({"event_id": r.id}) and r.created_type == "integer"
        assert stored["evt_text"].payload == body  # the delivery's text, not re-serialised
        assert stored["evt_dict"].payload == json.dumps(dict_event)

    claimed = [await claim(db, worker_id="w", lease_s=30) for _ in range(3)]
    assert {job.payload["event_id"] for job in claimed if job} == {
        "evt_text",
        "evt_dict",
        "reference",
    }


async def test_a_batch_wakes_the_in_process_worker_after_its_commit(db: Database) -> None:
    wake_ups = []
    db.on_jobs_committed(lambda: wake_ups.append("job committed"))
    writer = BatchIngestWriter(db)
    assert await writer.submit(ingest_item(event("evt_wake"))) is True
    assert len(wake_ups) == 1
    assert await writer.submit(ingest_item(event("evt_wake"))) is False  # nothing enqueued
    assert len(wake_ups) == 1
    await writer.close()


async def test_a_closed_writer_can_write_again(db: Database) -> None:
    writer = BatchIngestWriter(db)
    assert await writer.submit(ingest_item(event("evt_a"))) is True
    await writer.close()
    assert await writer.submit(ingest_item(event("evt_b"))) is True
    await writer.close()
    assert await counts(db) == (2, 2)


async def test_a_member_the_database_refuses_fails_alone(db: Database) -> None:
    # Validation keeps such events out of batches; should one still get in, its batch is
    # written again member by member, and only it fails.
    good = [ingest_item(delivered(f"evt_ok_{n}")[0]) for n in range(3)]
    unstorable = dataclasses.replace(
        ingest_item(delivered("evt_unstorable")[0]), stripe_created=2**70
    )
    writer = BatchIngestWriter(db)
    results = await asyncio.gather(
        *(writer.submit(item) for item in [good[0], unstorable, *good[1:]]),
        return_exceptions=True,
    )
    await writer.close()
    assert results[0] is True and results[2:] == [True, True]
    assert isinstance(results[1], Exception)
    assert await counts(db) == (3, 3)
