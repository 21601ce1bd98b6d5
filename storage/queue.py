"""A durable job queue in the application database.

- `enqueue` joins the caller's transaction, so "store the event and its job" is one commit.
- A dedupe key is unique forever: enqueueing the same key twice is a no-op.
- A serial key (e.g. the invoice id) means two jobs of that key never run at once.
- `claim` leases one due job; a worker killed mid-job loses its lease and the job is claimed
  again once the lease expires. SQLite serialises writers (BEGIN IMMEDIATE); PostgreSQL uses
  `FOR UPDATE SKIP LOCKED` plus a transaction advisory lock per serial key.
- Failures retry with exponential backoff and jitter up to `max_attempts`, then go `dead`;
  the same transaction enqueues a `job_died` job naming it, so a person hears of it (the
  application registers a handler for that kind). `retry_dead` gives a dead job a new life.
- Jobs are claimed by priority (lower first), then oldest due first. The claim walks the
  `ix_jobs_claim` index (status, priority, run_at, id) one priority at a time, so a claim costs
  the same with 10 or 100,000 jobs due. `claim_many` leases a worker's free slots and records
  its finished jobs in one transaction (on SQLite one candidate statement for every tier);
  rows are read with Core, not loaded as ORM objects.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any

from sqlalchemy import and_, exists, func, literal, or_, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.db import JOBS_ENQUEUED_FLAG, Database, rows_affected
from storage.models import Job, JobStatus, utcnow

JOB_DIED = "job_died"
"""Kind of the job enqueued with every death: payload `{"job_id": <the dead job>}`."""


class Priority(IntEnum):
    """Lower runs first: work that lets a person act goes ahead of work that does not."""

    PERSON_WAITING = 0  # posting a card or task, replying to a click
    NORMAL = 1  # processing events, sending approved emails
    BACKGROUND = 2  # drafting and other slow work nobody is looking at yet


class RetryLater(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a handler to run the job again after `delay_s` without counting a failure."""

    def __init__(self, delay_s: float, reason: str) -> None:
        super().__init__(reason)
        self.delay_s = delay_s
        self.reason = reason


class PermanentJobError(Exception):
    """Raised by a handler when retrying can never help: the job goes dead at once."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter: base · factor^(attempt-1), capped, ± jitter."""

    base_s: float = 2.0
    factor: float = 2.0
    max_delay_s: float = 600.0
    jitter: float = 0.25

    def delay_for(self, attempt: int) -> float:
        raw = min(self.base_s * self.factor ** max(attempt - 1, 0), self.max_delay_s)
        return raw * (1 + random.uniform(-self.jitter, self.jitter))


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A leased job as a handler sees it."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    dedupe_key: str | None
    serial_key: str | None


DEFAULT_MAX_ATTEMPTS = 8
_QUEUED = JobStatus.QUEUED.value


def job_row(
    *,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    dedupe_key: str | None = None,
    serial_key: str | None = None,
    run_at: datetime | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    priority: Priority = Priority.NORMAL,
) -> dict[str, Any]:
    """The column values of a new job: the one place a job's defaults are set."""
    return {
        "kind": kind,
        "payload": payload,
        "status": _QUEUED,
        "priority": int(Priority(priority)),
        "dedupe_key": dedupe_key,
        "serial_key": serial_key,
        "attempts": 0,
        "max_attempts": max_attempts,
        "run_at": run_at or now,
        "created_at": now,
    }


async def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    payload: dict[str, Any],
    dedupe_key: str | None = None,
    serial_key: str | None = None,
    run_at: datetime | None = None,
    delay_s: float | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    priority: Priority = Priority.NORMAL,
) -> int | None:
    """Add a job inside the caller's transaction. Returns its id, or None for a duplicate key."""
    now = utcnow()
    values = job_row(
        kind=kind,
        payload=payload,
        now=now,
        dedupe_key=dedupe_key,
        serial_key=serial_key,
        run_at=run_at or (now + timedelta(seconds=delay_s) if delay_s else None),
        max_attempts=max_attempts,
        priority=priority,
    )
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Job).values(**values)
    if dedupe_key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"])
    job_id = await session.scalar(statement.returning(Job.id))
    if job_id is not None:
        session.info[JOBS_ENQUEUED_FLAG] = True
    return job_id


CLAIM_CANDIDATES = 20
# What a handler sees of a job: read with Core (no ORM objects on the claim's hot path).
_CLAIMED_COLUMNS = (
    Job.id,
    Job.kind,
    Job.payload,
    Job.attempts,
    Job.max_attempts,
    Job.dedupe_key,
    Job.serial_key,
)


def _no_live_lease_on_serial_key(now: datetime) -> Any:
    """No other job of the candidate's serial key holds a live lease (true without a key)."""
    other = aliased(Job)
    return ~exists().where(
        other.serial_key == Job.serial_key,
        other.status == JobStatus.RUNNING,
        other.lease_expires_at >= now,
    )


def _candidate_queries(now: datetime, kinds: Iterable[str] | None) -> list[Any]:
    """Expired leases first, then due jobs one priority at a time, each an index range scan
    (each ordered by its index, with the time it is ordered by as column `due`)."""
    expired = (
        select(*_CLAIMED_COLUMNS, Job.lease_expires_at.label("due"))
        .where(Job.status == JobStatus.RUNNING, Job.lease_expires_at < now)
        .order_by(Job.lease_expires_at, Job.id)
    )
    queries = [expired]
    for priority in Priority:
        queries.append(
            select(*_CLAIMED_COLUMNS, Job.run_at.label("due"))
            .where(Job.status == JobStatus.QUEUED, Job.priority == priority, Job.run_at <= now)
            .order_by(Job.run_at, Job.id)
        )
    if kinds is not None:
        wanted = list(kinds)
        queries = [query.where(Job.kind.in_(wanted)) for query in queries]
    return queries


async def _serial_key_busy(
    session: AsyncSession, *, job_id: int, serial_key: str, now: datetime
) -> bool:
    """PostgreSQL: true when another worker is claiming this serial key right now (advisory
    lock held) or another job of it holds a live lease (read after taking the lock)."""
    locked = await session.scalar(select(func.pg_try_advisory_xact_lock(func.hashtext(serial_key))))
    if not locked:
        return True
    other = await session.scalar(
        select(Job.id)
        .where(
            Job.serial_key == serial_key,
            Job.id != job_id,
            Job.status == JobStatus.RUNNING,
            Job.lease_expires_at >= now,
        )
        .limit(1)
    )
    return other is not None


async def claim(
    db: Database,
    *,
    worker_id: str,
    lease_s: float,
    kinds: Iterable[str] | None = None,
    exclude_ids: Iterable[int] = (),
) -> ClaimedJob | None:
    """Lease the next due job (priority, then oldest first), honouring serial keys."""
    jobs = await claim_many(
        db, worker_id=worker_id, lease_s=lease_s, kinds=kinds, exclude_ids=exclude_ids, limit=1
    )
    return jobs[0] if jobs else None


async def claim_many(
    db: Database,
    *,
    worker_id: str,
    lease_s: float,
    limit: int,
    kinds: Iterable[str] | None = None,
    exclude_ids: Iterable[int] = (),
    complete_ids: Iterable[int] = (),
) -> list[ClaimedJob]:
    """Lease up to `limit` due jobs in one transaction (priority, then oldest first), at most
    one per serial key; first mark `complete_ids` (this worker's finished jobs) succeeded, so
    a worker records what it finished and takes what is next in one commit."""
    excluded, finished = list(exclude_ids), list(complete_ids)
    async with db.transaction() as session:
        now = utcnow()
        if finished:
            await _mark_succeeded(session, job_ids=finished, worker_id=worker_id, now=now)
        if limit <= 0:
            return []
        queries = _candidate_queries(now, kinds)
        if excluded:
            queries = [query.where(Job.id.not_in(excluded)) for query in queries]
        if db.is_sqlite:
            chosen = await _choose_sqlite(session, queries, now=now, limit=limit)
        else:
            chosen = await _choose_postgresql(session, queries, now=now, limit=limit)
        if not chosen:
            return []
        lease_expires_at = now + timedelta(seconds=lease_s)
        await session.execute(
            update(Job)
            .where(Job.id.in_([row.id for row in chosen]))
            .values(
                status=JobStatus.RUNNING,
                attempts=Job.attempts + 1,
                locked_by=worker_id,
                lease_expires_at=lease_expires_at,
                started_at=now,
            )
        )
    return [
        ClaimedJob(
            id=row.id,
            kind=row.kind,
            payload=dict(row.payload),
            attempts=row.attempts + 1,
            max_attempts=row.max_attempts,
            dedupe_key=row.dedupe_key,
            serial_key=row.serial_key,
        )
        for row in chosen
    ]


async def _choose_sqlite(
    session: AsyncSession, queries: list[Any], *, now: datetime, limit: int
) -> list[Any]:
    """SQLite (one writer at a time, so nothing can change under this transaction): every
    tier's candidates in one statement, serial keys with a live lease filtered out in it."""
    free = _no_live_lease_on_serial_key(now)
    tiers = [
        select(literal(tier).label("tier"), *query.where(free).limit(CLAIM_CANDIDATES).subquery().c)
        for tier, query in enumerate(queries)
    ]
    rows = list((await session.execute(union_all(*tiers))).all())
    rows.sort(key=lambda row: (row.tier, row.due, row.id))
    return _one_per_serial_key(rows, limit=limit)


async def _choose_postgresql(
    session: AsyncSession, queries: list[Any], *, now: datetime, limit: int
) -> list[Any]:
    """PostgreSQL: tier by tier, rows locked (SKIP LOCKED), each serial key taken under an
    advisory lock and checked again after it (another worker may have just committed)."""
    chosen: list[Any] = []
    keys: set[str] = set()
    free = _no_live_lease_on_serial_key(now)
    for query in queries:
        candidates = (
            await session.execute(
                query.where(free).limit(CLAIM_CANDIDATES).with_for_update(skip_locked=True)
            )
        ).all()
        for row in candidates:
            if row.serial_key:
                if row.serial_key in keys:
                    continue
                if await _serial_key_busy(
                    session, job_id=row.id, serial_key=row.serial_key, now=now
                ):
                    continue
                keys.add(row.serial_key)
            chosen.append(row)
            if len(chosen) >= limit:
                return chosen
    return chosen


def _one_per_serial_key(rows: list[Any], *, limit: int) -> list[Any]:
    """The first `limit` rows in order, skipping a row whose serial key is already taken."""
    chosen: list[Any] = []
    keys: set[str] = set()
    for row in rows:
        if row.serial_key:
            if row.serial_key in keys:
                continue
            keys.add(row.serial_key)
        chosen.append(row)
        if len(chosen) >= limit:
            break
    return chosen


def _owned(job_id: int, worker_id: str) -> Any:
    return and_(Job.id == job_id, Job.locked_by == worker_id, Job.status == JobStatus.RUNNING)


async def extend_lease(db: Database, *, job_id: int, worker_id: str, lease_s: float) -> bool:
    """Heartbeat: push the lease forward. False when the lease was lost to another worker."""
    async with db.transaction() as session:
        result = await session.execute(
            update(Job)
            .where(_owned(job_id, worker_id))
            .values(lease_expires_at=utcnow() + timedelta(seconds=lease_s))
        )
        return rows_affected(result) == 1


async def complete(db: Database, *, job_id: int, worker_id: str) -> bool:
    """Mark a leased job done."""
    async with db.transaction() as session:
        return await _mark_succeeded(session, job_ids=[job_id], worker_id=worker_id) == 1


async def complete_many(db: Database, *, job_ids: Iterable[int], worker_id: str) -> int:
    """Mark several of this worker's leased jobs done in one commit. Returns how many."""
    ids = list(job_ids)
    if not ids:
        return 0
    async with db.transaction() as session:
        return await _mark_succeeded(session, job_ids=ids, worker_id=worker_id)


async def _mark_succeeded(
    session: AsyncSession, *, job_ids: list[int], worker_id: str, now: datetime | None = None
) -> int:
    """Succeeded, for the jobs of `job_ids` this worker still holds (a lost lease: not)."""
    result = await session.execute(
        update(Job)
        .where(Job.id.in_(job_ids), Job.locked_by == worker_id, Job.status == JobStatus.RUNNING)
        .values(status=JobStatus.SUCCEEDED, finished_at=now or utcnow(), lease_expires_at=None)
    )
    return rows_affected(result)


async def fail(
    db: Database,
    *,
    job: ClaimedJob,
    worker_id: str,
    error: str,
    policy: RetryPolicy,
    permanent: bool = False,
) -> str:
    """Record a failure: back to `queued` with a backoff delay, or `dead` past the limit.

    A death enqueues one `job_died` job in the same transaction (none for a `job_died` job
    itself, so an alert that cannot be posted does not alert about itself for ever)."""
    now = utcnow()
    dead = permanent or job.attempts >= job.max_attempts
    values: dict[str, Any] = {"last_error": error[:4000], "lease_expires_at": None}
    if dead:
        values.update(status=JobStatus.DEAD, finished_at=now)
    else:
        run_at = now + timedelta(seconds=policy.delay_for(job.attempts))
        values.update(status=JobStatus.QUEUED, run_at=run_at, locked_by=None)
    async with db.transaction() as session:
        result = await session.execute(
            update(Job).where(_owned(job.id, worker_id)).values(**values)
        )
        if dead and rows_affected(result) == 1 and job.kind != JOB_DIED:
            await enqueue(session, kind=JOB_DIED, payload={"job_id": job.id})
    return JobStatus.DEAD if dead else JobStatus.QUEUED


async def retry_dead(session: AsyncSession, *, job_id: int) -> bool:
    """Queue a dead job to run at once with a fresh set of attempts, in the caller's
    transaction. False when it is not dead (already retried, or never died): one retry
    however often it is asked for."""
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.DEAD)
        .values(
            status=JobStatus.QUEUED,
            attempts=0,
            run_at=utcnow(),
            finished_at=None,
            locked_by=None,
            lease_expires_at=None,
        )
    )
    if rows_affected(result) == 1:
        session.info[JOBS_ENQUEUED_FLAG] = True
    return rows_affected(result) == 1


async def reschedule(
    db: Database, *, job: ClaimedJob, worker_id: str, delay_s: float, reason: str | None = None
) -> None:
    """Run the job again later without counting this run as an attempt."""
    async with db.transaction() as session:
        await session.execute(
            update(Job)
            .where(_owned(job.id, worker_id))
            .values(
                status=JobStatus.QUEUED,
                attempts=Job.attempts - 1,
                run_at=utcnow() + timedelta(seconds=delay_s),
                lease_expires_at=None,
                locked_by=None,
                last_error=reason,
            )
        )


async def release(db: Database, *, job: ClaimedJob, worker_id: str) -> None:
    """Give a job back untouched (shutdown): it runs again at once elsewhere."""
    await reschedule(db, job=job, worker_id=worker_id, delay_s=0, reason="released on shutdown")


async def cancel_jobs(
    session: AsyncSession,
    *,
    serial_key: str | None = None,
    dedupe_keys: Iterable[str] = (),
    kinds: Iterable[str] | None = None,
) -> int:
    """Cancel queued jobs matching a serial key and/or dedupe keys. Returns how many."""
    conditions = []
    if serial_key is not None:
        conditions.append(Job.serial_key == serial_key)
    keys = list(dedupe_keys)
    if keys:
        conditions.append(Job.dedupe_key.in_(keys))
    if not conditions:
        raise ValueError("cancel_jobs needs a serial_key or dedupe_keys")
    statement = update(Job).where(Job.status == JobStatus.QUEUED, or_(*conditions))
    if kinds is not None:
        statement = statement.where(Job.kind.in_(list(kinds)))
    result = await session.execute(
        statement.values(status=JobStatus.CANCELLED, finished_at=utcnow())
    )
    return rows_affected(result)


async def run_now(session: AsyncSession, *, serial_key: str, kinds: Iterable[str]) -> int:
    """Make queued jobs of a serial key due at once (e.g. sends held by a pause that ended)."""
    result = await session.execute(
        update(Job)
        .where(
            Job.serial_key == serial_key, Job.status == JobStatus.QUEUED, Job.kind.in_(list(kinds))
        )
        .values(run_at=utcnow())
    )
    return rows_affected(result)


@dataclass(frozen=True, slots=True)
class ShiftedJob:
    """A queued job brought forward by `shift_due`: when it was due and when it is due now."""

    id: int
    kind: str
    serial_key: str | None
    was_due: datetime
    now_due: datetime


async def shift_due(
    session: AsyncSession, *, serial_keys: Iterable[str], by: timedelta
) -> list[ShiftedJob]:
    """Bring the not-yet-due queued jobs of these serial keys `by` earlier, never before now:
    time passing for one subject only (the sandbox's "advance 7 days"). Jobs already due,
    leased, finished, cancelled or dead are untouched. In the caller's transaction."""
    keys = list(dict.fromkeys(serial_keys))
    if not keys or by <= timedelta(0):
        return []
    now = utcnow()
    query = (
        select(Job)
        .where(Job.serial_key.in_(keys), Job.status == JobStatus.QUEUED, Job.run_at > now)
        .order_by(Job.run_at, Job.id)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # a row being claimed is not queued
    shifted = []
    for job in (await session.scalars(query)).all():
        was_due = job.run_at
        job.run_at = max(was_due - by, now)
        shifted.append(
            ShiftedJob(
                id=job.id,
                kind=job.kind,
                serial_key=job.serial_key,
                was_due=was_due,
                now_due=job.run_at,
            )
        )
    if any(job.now_due <= now for job in shifted):
        session.info[JOBS_ENQUEUED_FLAG] = True  # wake the in-process worker on commit
    return shifted


@dataclass(frozen=True, slots=True)
class QueueStats:
    depth: int
    oldest_age_s: float
    dead: int


async def queue_stats(db: Database) -> QueueStats:
    """Depth of due jobs, age of the oldest due job, and how many are dead."""
    async with db.sessions() as session:
        now = utcnow()
        depth, oldest = (
            await session.execute(
                select(func.count(Job.id), func.min(Job.run_at)).where(
                    Job.status == JobStatus.QUEUED, Job.run_at <= now
                )
            )
        ).one()
        dead = await session.scalar(select(func.count(Job.id)).where(Job.status == "dead"))
    oldest_age = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    return QueueStats(depth=depth or 0, oldest_age_s=oldest_age, dead=dead or 0)


async def failed_jobs(db: Database, *, limit: int = 100) -> list[Job]:
    """Dead jobs and jobs waiting to retry after an error, newest first."""
    async with db.sessions() as session:
        query = (
            select(Job)
            .where(
                or_(
                    Job.status == JobStatus.DEAD,
                    and_(Job.status == JobStatus.QUEUED, Job.last_error.is_not(None)),
                )
            )
            .order_by(Job.id.desc())
            .limit(limit)
        )
        return list((await session.scalars(query)).all())
