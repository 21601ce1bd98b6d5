"""Workers as real OS processes: a SIGKILLed worker's job is finished by another exactly once,
and on PostgreSQL two workers draining one queue never run a job twice nor overlap a serial key."""

from __future__ import annotations

import signal
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage import queue
from storage.db import Database
from storage.models import AuditEntry, Job, JobStatus
from tests.support.worker_child import RECORD_RUN, SLOW_SIDE_EFFECT
from tests.support.worker_processes import WorkerProcesses, audit_logged, worker_processes

pytestmark = pytest.mark.slow

LEASE_S = 1.5


@pytest.fixture
def children(database_url: str, tmp_path: Path) -> Iterator[WorkerProcesses]:
    args = ["--url", database_url, "--lease", str(LEASE_S)]
    with worker_processes("tests.support.worker_child", args, tmp_path) as spawned:
        yield spawned


async def audit_rows(db: Database, action: str) -> list[AuditEntry]:
    async with db.sessions() as session:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        return list((await session.scalars(query)).all())


async def get_job(db: Database, job_id: int) -> Job:
    async with db.sessions() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


async def test_sigkilled_workers_job_is_finished_once_by_another_process(
    db: Database, children: WorkerProcesses
) -> None:
    async with db.transaction() as session:
        job_id = await queue.enqueue(session, kind=SLOW_SIDE_EFFECT, payload={})
    assert job_id is not None

    worker_a = children.start("worker-a", "--hold", "3600")
    await children.wait_until(
        lambda: audit_logged(db, "job_started", actor="worker-a"),
        timeout_s=20,
        what="worker-a to start the job",
    )
    children.start("worker-b", "--hold", "0")
    await children.wait_until(
        lambda: audit_logged(db, "worker_ready", actor="worker-b"),
        timeout_s=20,
        what="worker-b to be ready",
    )

    # worker-a's heartbeat keeps the lease alive beyond its first term; worker-b keeps off.
    started_at = (await get_job(db, job_id)).started_at
    assert started_at is not None

    async def lease_extended() -> bool:
        job = await get_job(db, job_id)
        assert job.lease_expires_at is not None
        return (job.lease_expires_at - started_at).total_seconds() > LEASE_S + 0.2

    await children.wait_until(lease_extended, timeout_s=10, what="a heartbeat to extend the lease")
    held = await get_job(db, job_id)
    assert held.status == JobStatus.RUNNING and held.locked_by == "worker-a"
    assert held.attempts == 1

    worker_a.send_signal(signal.SIGKILL)
    assert worker_a.wait(timeout=10) == -signal.SIGKILL
    lease_at_kill = (await get_job(db, job_id)).lease_expires_at
    assert lease_at_kill is not None

    async def succeeded() -> bool:
        return (await get_job(db, job_id)).status == JobStatus.SUCCEEDED

    await children.wait_until(succeeded, timeout_s=20, what="worker-b to finish the job")
    done = await get_job(db, job_id)
    assert done.attempts == 2 and done.locked_by == "worker-b"
    assert done.started_at is not None and done.started_at > lease_at_kill  # lease was honoured

    side_effects = await audit_rows(db, "side_effect")
    assert [(row.actor, row.detail) for row in side_effects] == [
        ("worker-b", {"job_id": job_id, "attempt": 2})
    ]
    starts = await audit_rows(db, "job_started")
    assert [(row.actor, row.detail["attempt"]) for row in starts] == [
        ("worker-a", 1),
        ("worker-b", 2),
    ]
    assert children.stop("worker-b") == 0, children.logs()


SERIAL_KEYS = 20
JOBS_PER_KEY = 5
UNKEYED_JOBS = 100


async def test_two_worker_processes_never_run_a_job_twice_nor_overlap_a_serial_key(
    db: Database, backend: str, children: WorkerProcesses
) -> None:
    if backend == "sqlite":
        pytest.skip(
            "PostgreSQL only: several worker processes on one database is the PostgreSQL "
            "deployment (FOR UPDATE SKIP LOCKED); SQLite runs one worker process"
        )
    job_ids: list[int] = []
    async with db.transaction() as session:
        # Same-key jobs back to back, so both processes see them due at the same moment.
        for key in range(SERIAL_KEYS):
            for _ in range(JOBS_PER_KEY):
                job_id = await queue.enqueue(
                    session, kind=RECORD_RUN, payload={}, serial_key=f"invoice:in_{key}"
                )
                assert job_id is not None
                job_ids.append(job_id)
        for _ in range(UNKEYED_JOBS):
            job_id = await queue.enqueue(session, kind=RECORD_RUN, payload={})
            assert job_id is not None
            job_ids.append(job_id)

    for worker_id in ("worker-a", "worker-b"):
        children.start(worker_id, "--concurrency", "4", "--work-ms", "20")

    async def all_done() -> bool:
        async with db.sessions() as session:
            remaining = await session.scalar(
                select(func.count()).select_from(Job).where(Job.status != JobStatus.SUCCEEDED)
            )
        return remaining == 0

    await children.wait_until(all_done, timeout_s=60, what="all jobs to succeed")
    assert children.stop("worker-a") == 0, children.logs()
    assert children.stop("worker-b") == 0, children.logs()

    runs = [row.detail for row in await audit_rows(db, "job_run")]
    counts = Counter(run["job_id"] for run in runs)
    assert sorted(counts) == sorted(job_ids)
    assert [job_id for job_id, n in counts.items() if n > 1] == []
    assert {run["attempt"] for run in runs} == {1}
    by_worker = Counter(row.actor for row in await audit_rows(db, "job_run"))
    assert set(by_worker) == {"worker-a", "worker-b"}, by_worker  # both did work

    by_key: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for run in runs:
        if run["serial_key"] is not None:
            by_key[run["serial_key"]].append((run["start"], run["end"]))
    assert len(by_key) == SERIAL_KEYS
    overlaps = [
        (key, earlier, later)
        for key, spans in by_key.items()
        for earlier, later in zip(sorted(spans), sorted(spans)[1:], strict=False)
        if later[0] < earlier[1]
    ]
    assert overlaps == []


async def test_sigterm_lets_a_short_job_finish_before_exiting(
    db: Database, children: WorkerProcesses
) -> None:
    async with db.transaction() as session:
        job_id = await queue.enqueue(session, kind=SLOW_SIDE_EFFECT, payload={})
    assert job_id is not None
    children.start("worker-t", "--hold", "1", "--grace", "30")
    await children.wait_until(
        lambda: audit_logged(db, "job_started", actor="worker-t"),
        timeout_s=20,
        what="worker-t to start the job",
    )
    assert children.stop("worker-t", timeout_s=30) == 0
    job = await get_job(db, job_id)
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 1
    assert len(await audit_rows(db, "side_effect")) == 1


async def test_sigterm_releases_a_job_that_outlives_the_grace_period(
    db: Database, children: WorkerProcesses
) -> None:
    async with db.transaction() as session:
        job_id = await queue.enqueue(session, kind=SLOW_SIDE_EFFECT, payload={})
    assert job_id is not None
    children.start("worker-r", "--hold", "3600", "--grace", "0.5")
    await children.wait_until(
        lambda: audit_logged(db, "job_started", actor="worker-r"),
        timeout_s=20,
        what="worker-r to start the job",
    )
    assert children.stop("worker-r", timeout_s=30) == 0
    job = await get_job(db, job_id)
    # Given back untouched: queued, due now, no attempt counted, no lease holder.
    assert job.status == JobStatus.QUEUED and job.attempts == 0 and job.locked_by is None
    assert await audit_rows(db, "side_effect") == []
