"""The durable job queue: dedupe, leases, serial keys, retries, dead jobs, cancel."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from storage import queue
from storage.db import Database
from storage.models import Job, JobStatus, utcnow
from storage.queue import ClaimedJob, RetryLater, RetryPolicy
from storage.worker import Worker

NO_DELAY = RetryPolicy(base_s=0.0, jitter=0.0)


async def _enqueue_or_none(db: Database, **options: Any) -> int | None:
    """Enqueue a job (kind "k" unless given); None when its dedupe key is already taken."""
    async with db.transaction() as session:
        return await queue.enqueue(session, **{"kind": "k", "payload": {}, **options})


async def _enqueue(db: Database, **options: Any) -> int:
    """Enqueue a job that must be new (no taken dedupe key); its id."""
    job_id = await _enqueue_or_none(db, **options)
    assert job_id is not None, "the job was dropped as a duplicate"
    return job_id


async def _job(db: Database, job_id: int) -> Job:
    async with db.sessions() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


async def test_same_dedupe_key_enqueues_one_job(db: Database) -> None:
    first = await _enqueue_or_none(db, dedupe_key="event:1")
    second = await _enqueue_or_none(db, dedupe_key="event:1")
    assert first is not None and second is None
    async with db.sessions() as session:
        assert len((await session.scalars(select(Job))).all()) == 1


async def test_enqueue_rolls_back_with_the_callers_transaction(db: Database) -> None:
    try:
        async with db.transaction() as session:
            await queue.enqueue(session, kind="k", payload={}, dedupe_key="x")
            raise RuntimeError("caller fails after enqueue")
    except RuntimeError:
        pass
    assert await queue.claim(db, worker_id="w", lease_s=10) is None


async def test_claim_leases_job_once_and_respects_run_at(db: Database) -> None:
    due = await _enqueue(db)
    await _enqueue(db, delay_s=3600)
    claimed = await queue.claim(db, worker_id="w1", lease_s=30)
    assert claimed is not None and claimed.id == due and claimed.attempts == 1
    assert await queue.claim(db, worker_id="w2", lease_s=30) is None


async def test_expired_lease_is_claimed_by_another_worker(db: Database) -> None:
    job_id = await _enqueue(db)
    assert job_id is not None
    await queue.claim(db, worker_id="dead-worker", lease_s=30)
    async with db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
    reclaimed = await queue.claim(db, worker_id="w2", lease_s=30)
    assert reclaimed is not None and reclaimed.id == job_id and reclaimed.attempts == 2
    assert not await queue.complete(db, job_id=job_id, worker_id="dead-worker")
    assert await queue.complete(db, job_id=job_id, worker_id="w2")
    assert (await _job(db, job_id)).status == JobStatus.SUCCEEDED


async def test_serial_key_blocks_second_job_until_first_finishes(db: Database) -> None:
    first = await _enqueue(db, serial_key="invoice:in_1")
    second = await _enqueue(db, serial_key="invoice:in_1")
    other = await _enqueue(db, serial_key="invoice:in_2")
    claimed = await queue.claim(db, worker_id="w", lease_s=30)
    assert claimed is not None and claimed.id == first
    next_claim = await queue.claim(db, worker_id="w", lease_s=30)
    assert next_claim is not None and next_claim.id == other
    assert await queue.claim(db, worker_id="w", lease_s=30) is None
    await queue.complete(db, job_id=first, worker_id="w")
    after = await queue.claim(db, worker_id="w", lease_s=30)
    assert after is not None and after.id == second


async def test_failures_back_off_then_go_dead_with_last_error(db: Database) -> None:
    job_id = await _enqueue(db, max_attempts=3)
    policy = RetryPolicy(base_s=10.0, factor=2.0, jitter=0.0)
    for attempt in (1, 2):
        job = await queue.claim(db, worker_id="w", lease_s=30)
        assert job is not None and job.attempts == attempt
        assert await queue.fail(db, job=job, worker_id="w", error="boom", policy=policy) == "queued"
        row = await _job(db, job_id)
        expected_delay = 10.0 * 2 ** (attempt - 1)
        assert abs((row.run_at - utcnow()).total_seconds() - expected_delay) < 2
        async with db.transaction() as session:
            await session.execute(update(Job).where(Job.id == job_id).values(run_at=utcnow()))
    job = await queue.claim(db, worker_id="w", lease_s=30)
    assert job is not None
    assert await queue.fail(db, job=job, worker_id="w", error="still boom", policy=policy) == "dead"
    row = await _job(db, job_id)
    assert row.status == JobStatus.DEAD and row.last_error == "still boom"
    listed = await queue.failed_jobs(db)
    assert [j.id for j in listed] == [job_id]


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    policy = RetryPolicy(base_s=2.0, factor=2.0, max_delay_s=60.0, jitter=0.25)
    for attempt, nominal in ((1, 2.0), (2, 4.0), (3, 8.0), (10, 60.0)):
        delays = [policy.delay_for(attempt) for _ in range(50)]
        assert all(nominal * 0.75 <= d <= nominal * 1.25 for d in delays)
        assert len(set(delays)) > 1


async def test_cancel_by_serial_key_cancels_only_queued_jobs(db: Database) -> None:
    running = await _enqueue(db, serial_key="invoice:in_1", dedupe_key="a")
    await queue.claim(db, worker_id="w", lease_s=30)
    waiting = await _enqueue(db, serial_key="invoice:in_1", dedupe_key="b")
    unrelated = await _enqueue(db, serial_key="invoice:in_2", dedupe_key="c")
    async with db.transaction() as session:
        assert await queue.cancel_jobs(session, serial_key="invoice:in_1") == 1
    assert (await _job(db, waiting)).status == JobStatus.CANCELLED
    assert (await _job(db, running)).status == JobStatus.RUNNING
    assert (await _job(db, unrelated)).status == JobStatus.QUEUED


async def test_worker_runs_handlers_retries_and_reschedules(db: Database) -> None:
    calls: list[int] = []

    async def flaky(job: ClaimedJob) -> None:
        calls.append(job.attempts)
        if job.attempts == 1:
            raise ValueError("first try fails")

    async def later(job: ClaimedJob) -> None:
        raise RetryLater(3600, "rate limited")

    worker = Worker(db, {"flaky": flaky, "later": later}, retry_policy=NO_DELAY)
    flaky_id = await _enqueue(db, kind="flaky")
    later_id = await _enqueue(db, kind="later")
    await worker.run_until_idle()
    assert calls == [1, 2]
    assert (await _job(db, flaky_id)).status == JobStatus.SUCCEEDED
    rescheduled = await _job(db, later_id)
    assert rescheduled.status == JobStatus.QUEUED and rescheduled.attempts == 0
    assert (rescheduled.run_at - utcnow()).total_seconds() > 3000


async def test_worker_picks_up_a_new_job_when_woken_by_the_commit(db: Database) -> None:
    done = asyncio.Event()

    async def handler(job: ClaimedJob) -> None:
        done.set()

    worker = Worker(db, {"k": handler}, poll_s=60.0)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0)  # let the worker reach its idle wait
    await _enqueue(db)
    await asyncio.wait_for(done.wait(), timeout=5)  # far below the 60 s poll interval
    stop.set()
    await task


async def test_worker_stop_releases_a_job_that_outlives_the_grace_period(db: Database) -> None:
    started = asyncio.Event()

    async def slow(job: ClaimedJob) -> None:
        started.set()
        await asyncio.Event().wait()

    worker = Worker(db, {"k": slow}, shutdown_grace_s=0.1)
    job_id = await _enqueue(db)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(started.wait(), timeout=5)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    row = await _job(db, job_id)
    assert row.status == JobStatus.QUEUED and row.attempts == 0 and row.locked_by is None


async def test_a_worker_that_lost_its_lease_stops_the_handler_and_records_nothing(
    db: Database,
) -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def long_job(job: ClaimedJob) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    worker = Worker(db, {"k": long_job}, lease_s=0.3)
    job_id = await _enqueue(db)
    run = asyncio.create_task(worker.run_until_idle(max_jobs=1))
    await asyncio.wait_for(started.wait(), timeout=5)
    async with db.transaction() as session:  # another worker took the job over
        await session.execute(update(Job).where(Job.id == job_id).values(locked_by="other"))
    await asyncio.wait_for(cancelled.wait(), timeout=5)
    assert await asyncio.wait_for(run, timeout=5) == 1
    row = await _job(db, job_id)
    assert row.status == JobStatus.RUNNING and row.locked_by == "other"


async def test_claim_takes_person_waiting_work_before_older_background_work(
    db: Database,
) -> None:
    drafting = await _enqueue(db, priority=queue.Priority.BACKGROUND)
    event = await _enqueue(db, priority=queue.Priority.NORMAL)
    card = await _enqueue(db, priority=queue.Priority.PERSON_WAITING)
    order = []
    for _ in range(3):
        claimed = await queue.claim(db, worker_id="w", lease_s=30)
        assert claimed is not None
        order.append(claimed.id)
    assert order == [card, event, drafting]


async def test_a_not_yet_due_urgent_job_does_not_block_due_work(db: Database) -> None:
    await _enqueue(db, priority=queue.Priority.PERSON_WAITING, delay_s=3600)
    due = await _enqueue(db, priority=queue.Priority.BACKGROUND)
    claimed = await queue.claim(db, worker_id="w", lease_s=30)
    assert claimed is not None and claimed.id == due


async def test_expired_lease_goes_ahead_of_queued_work(db: Database) -> None:
    stale = await _enqueue(db, priority=queue.Priority.BACKGROUND)
    await queue.claim(db, worker_id="dead-worker", lease_s=30)
    await _enqueue(db, priority=queue.Priority.PERSON_WAITING)
    async with db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.id == stale)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
    claimed = await queue.claim(db, worker_id="w2", lease_s=30)
    assert claimed is not None and claimed.id == stale


async def test_worker_runs_jobs_up_to_its_concurrency_at_once(db: Database) -> None:
    for _ in range(5):
        await _enqueue(db)
    started = 0
    all_started = asyncio.Event()
    release = asyncio.Event()

    async def handler(_job: ClaimedJob) -> None:
        nonlocal started
        started += 1
        if started == 3:
            all_started.set()
        await release.wait()

    worker = Worker(db, {"k": handler}, concurrency=3, poll_s=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(all_started.wait(), 10)
    assert started == 3 and len(worker._running) == 3
    release.set()
    stop.set()
    await asyncio.wait_for(running, 10)


async def test_shift_due_brings_only_that_subjects_queued_jobs_forward(db: Database) -> None:
    in_three_days = await _enqueue(db, serial_key="invoice:in_1", delay_s=3 * 86_400)
    in_ten_days = await _enqueue(db, serial_key="invoice:in_1", delay_s=10 * 86_400)
    other_invoice = await _enqueue(db, serial_key="invoice:in_2", delay_s=3 * 86_400)
    unkeyed = await _enqueue(db, delay_s=3 * 86_400)
    before = {j: (await _job(db, j)).run_at for j in (in_ten_days, other_invoice, unkeyed)}

    async with db.transaction() as session:
        shifted = await queue.shift_due(session, serial_keys=["invoice:in_1"], by=timedelta(days=7))

    assert {s.id for s in shifted} == {in_three_days, in_ten_days}
    now = utcnow()
    assert (await _job(db, in_three_days)).run_at <= now
    assert (await _job(db, in_ten_days)).run_at == before[in_ten_days] - timedelta(days=7)
    assert (await _job(db, other_invoice)).run_at == before[other_invoice]
    assert (await _job(db, unkeyed)).run_at == before[unkeyed]
    claimed = await queue.claim(db, worker_id="w", lease_s=30)
    assert claimed is not None and claimed.id == in_three_days
    assert await queue.claim(db, worker_id="w2", lease_s=30) is None


async def test_shift_due_leaves_leased_finished_and_due_jobs_alone(db: Database) -> None:
    done = await _enqueue(db, serial_key="invoice:in_1", dedupe_key="done")
    await queue.claim(db, worker_id="w", lease_s=30)
    await queue.complete(db, job_id=done, worker_id="w")
    running = await _enqueue(db, serial_key="invoice:in_1", dedupe_key="running")
    await queue.claim(db, worker_id="w", lease_s=30)
    cancelled = await _enqueue(db, serial_key="invoice:in_1", dedupe_key="cancelled")
    async with db.transaction() as session:
        await queue.cancel_jobs(session, dedupe_keys=["cancelled"])
        # Each would be shifted by its due time alone: only its status keeps it in place.
        await session.execute(
            update(Job)
            .where(Job.id.in_([done, running, cancelled]))
            .values(run_at=utcnow() + timedelta(days=1))
        )
    already_due = await _enqueue(db, serial_key="invoice:in_1", dedupe_key="due")
    jobs = (done, running, cancelled, already_due)
    rows = {j: await _job(db, j) for j in jobs}
    assert [rows[j].status for j in jobs] == ["succeeded", "running", "cancelled", "queued"]

    async with db.transaction() as session:
        shifted = await queue.shift_due(session, serial_keys=["invoice:in_1"], by=timedelta(days=7))

    assert shifted == []
    for job_id, row in rows.items():
        after = await _job(db, job_id)
        assert (after.status, after.run_at, after.lease_expires_at) == (
            row.status,
            row.run_at,
            row.lease_expires_at,
        )


async def test_claim_many_leases_up_to_the_limit_one_per_serial_key_in_order(
    db: Database,
) -> None:
    first = await _enqueue(db, serial_key="in_1")
    second_of_same_key = await _enqueue(db, serial_key="in_1")
    urgent = await _enqueue(db, priority=queue.Priority.PERSON_WAITING)
    plain = await _enqueue(db)
    await _enqueue(db)
    claimed = await queue.claim_many(db, worker_id="w", lease_s=30, limit=3)
    assert [job.id for job in claimed] == [urgent, first, plain]
    assert all(job.attempts == 1 for job in claimed)
    for job_id in (urgent, first, plain):
        job = await _job(db, job_id)
        assert job.status == JobStatus.RUNNING and job.locked_by == "w"
    assert (await _job(db, second_of_same_key)).status == JobStatus.QUEUED


async def test_claim_many_records_finished_jobs_before_taking_the_next(db: Database) -> None:
    first = await _enqueue(db, serial_key="in_1")
    second = await _enqueue(db, serial_key="in_1")
    [job] = await queue.claim_many(db, worker_id="w", lease_s=30, limit=5)
    assert job.id == first
    [after] = await queue.claim_many(db, worker_id="w", lease_s=30, limit=5, complete_ids=[first])
    assert after.id == second  # the serial key was freed in the same transaction
    done = await _job(db, first)
    assert done.status == JobStatus.SUCCEEDED and done.finished_at is not None


async def test_claim_many_completes_only_jobs_this_worker_still_holds(db: Database) -> None:
    job_id = await _enqueue(db)
    await queue.claim_many(db, worker_id="other", lease_s=30, limit=1)
    await queue.claim_many(db, worker_id="w", lease_s=30, limit=1, complete_ids=[job_id])
    assert (await _job(db, job_id)).status == JobStatus.RUNNING


async def test_a_running_worker_records_each_finished_job(db: Database) -> None:
    ids = [await _enqueue(db, serial_key=f"s{n % 2}") for n in range(6)]
    ran: list[int] = []
    all_ran = asyncio.Event()

    async def handler(job: ClaimedJob) -> None:
        ran.append(job.id)
        if len(ran) == len(ids):
            all_ran.set()

    worker = Worker(db, {"k": handler}, concurrency=4, poll_s=60.0)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(all_ran.wait(), 10)  # serial keys: each waits for the one before
    stop.set()
    await asyncio.wait_for(running, 10)
    assert sorted(ran) == ids
    for job_id in ids:
        assert (await _job(db, job_id)).status == JobStatus.SUCCEEDED
