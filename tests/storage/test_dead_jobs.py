"""A dead job is announced by one `job_died` job, can be retried once, and its stored error
carries no customer data."""

from __future__ import annotations

from sqlalchemy import select

from storage import queue
from storage.db import Database
from storage.job_errors import describe_error
from storage.models import CustomerRow, Job, JobStatus
from storage.queue import JOB_DIED, ClaimedJob, PermanentJobError, RetryPolicy
from storage.worker import Worker

NO_DELAY = RetryPolicy(base_s=0.0, jitter=0.0)
NAME, EMAIL = "Zelda Quimby-Secretname", "zelda.quimby@private.example"


async def _jobs(db: Database, kind: str | None = None) -> list[Job]:
    async with db.sessions() as session:
        query = select(Job).order_by(Job.id)
        if kind is not None:
            query = query.where(Job.kind == kind)
        return list((await session.scalars(query)).all())


async def _enqueue(db: Database, kind: str = "poison", max_attempts: int = 3) -> int:
    async with db.transaction() as session:
        job_id = await queue.enqueue(session, kind=kind, payload={}, max_attempts=max_attempts)
    assert job_id is not None
    return job_id


async def test_a_job_that_dies_enqueues_one_job_died_naming_it(db: Database) -> None:
    calls = 0

    async def poison(_job: ClaimedJob) -> None:
        nonlocal calls
        calls += 1
        raise ValueError("amount is not an integer")

    job_id = await _enqueue(db)
    await Worker(db, {"poison": poison}, retry_policy=NO_DELAY).run_until_idle()
    assert calls == 3
    [dead] = await _jobs(db, "poison")
    assert dead.status == JobStatus.DEAD
    [died] = await _jobs(db, JOB_DIED)
    assert died.payload == {"job_id": job_id} and died.status == JobStatus.QUEUED


async def test_a_permanent_error_dies_at_once_and_a_retried_failure_announces_nothing(
    db: Database,
) -> None:
    async def permanent(_job: ClaimedJob) -> None:
        raise PermanentJobError("the invoice has no customer")

    async def flaky(job: ClaimedJob) -> None:
        if job.attempts == 1:
            raise ConnectionError("try again")

    await _enqueue(db, "permanent", max_attempts=8)
    await _enqueue(db, "flaky")
    await Worker(
        db, {"permanent": permanent, "flaky": flaky}, retry_policy=NO_DELAY
    ).run_until_idle()
    [dead] = await _jobs(db, "permanent")
    assert dead.status == JobStatus.DEAD and dead.attempts == 1
    assert dead.last_error == "PermanentJobError: the invoice has no customer"
    assert [d.payload["job_id"] for d in await _jobs(db, JOB_DIED)] == [dead.id]


async def test_a_dying_job_died_job_does_not_announce_itself(db: Database) -> None:
    async def broken_alert(_job: ClaimedJob) -> None:
        raise RuntimeError("Slack is down")

    async with db.transaction() as session:
        await queue.enqueue(session, kind=JOB_DIED, payload={"job_id": 1}, max_attempts=1)
    await Worker(db, {JOB_DIED: broken_alert}, retry_policy=NO_DELAY).run_until_idle()
    assert [job.status for job in await _jobs(db)] == [JobStatus.DEAD]


async def test_retry_dead_runs_the_job_again_once(db: Database) -> None:
    fixed = False

    async def poison(_job: ClaimedJob) -> None:
        if not fixed:
            raise ValueError("not yet")

    job_id = await _enqueue(db, max_attempts=1)
    worker = Worker(db, {"poison": poison}, retry_policy=NO_DELAY)
    await worker.run_until_idle()
    fixed = True
    async with db.transaction() as session:
        first = await queue.retry_dead(session, job_id=job_id)
    async with db.transaction() as session:
        second = await queue.retry_dead(session, job_id=job_id)
    assert (first, second) == (True, False)
    [job] = await _jobs(db, "poison")
    assert job.status == JobStatus.QUEUED and job.attempts == 0
    assert await worker.run_until_idle() == 1
    [job] = await _jobs(db, "poison")
    assert job.status == JobStatus.SUCCEEDED
    async with db.transaction() as session:
        assert not await queue.retry_dead(session, job_id=job_id)  # not dead: nothing to retry


async def test_a_database_error_is_stored_without_the_customer_data_it_was_about(
    db: Database,
) -> None:
    async def duplicate_customer(_job: ClaimedJob) -> None:
        async with db.transaction() as session:
            session.add(CustomerRow(id="cus_1", name=NAME, email=EMAIL))
            await session.flush()
            session.add(CustomerRow(id="cus_1", name=NAME, email=EMAIL))

    await _enqueue(db, "duplicate", max_attempts=1)
    await Worker(db, {"duplicate": duplicate_customer}, retry_policy=NO_DELAY).run_until_idle()
    [dead] = await _jobs(db, "duplicate")
    assert dead.last_error is not None and dead.last_error.startswith("IntegrityError")
    assert "Zelda" not in dead.last_error and "Quimby" not in dead.last_error
    assert "@" not in dead.last_error and "cus_1" not in dead.last_error


def test_describe_error_keeps_the_class_and_drops_values() -> None:
    assert describe_error(KeyError("customer")) == "KeyError: 'customer'"
    assert describe_error(RuntimeError(f"550 <{EMAIL}> rejected")) == (
        "RuntimeError: 550 <<email>> rejected"
    )
    assert len(describe_error(RuntimeError("x" * 10_000))) <= 500


def test_describe_error_never_echoes_validation_input() -> None:
    from pydantic import BaseModel, ValidationError

    class Customer(BaseModel):
        id: int

    try:
        Customer.model_validate({"id": NAME})
    except ValidationError as error:
        described = describe_error(error)
    assert described.startswith("ValidationError: Customer: id:")
    assert NAME not in described


def test_the_application_registers_the_kind_the_queue_enqueues() -> None:
    from recovery.jobkinds import JobKind

    assert JobKind.JOB_DIED == JOB_DIED
