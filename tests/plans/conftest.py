"""dunbot wired with the example playbooks (the annual plan) against the fake Stripe and Slack,
with the plan service's clock frozen and time moved by `elapse` (as the sandbox does)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from recovery.jobkinds import JobKind
from storage.db import Database
from storage.models import Case, CasePlan, Job, JobStatus
from tests.fakes.slack_server import FakeSlack
from tests.fakes.stripe_server import FakeStripe
from tests.playbooks.conftest import playbook_harness
from tests.slack_flow.conftest import SlackHarness
from tests.slack_flow.conftest import fake_slack as fake_slack  # noqa: F401 - a fixture
from tests.slack_flow.conftest import fake_stripe as fake_stripe  # noqa: F401 - a fixture

INVOICE = "in_annual"
CUSTOMER = "cus_annual"
SUBSCRIPTION = "sub_annual"
PLAN_KINDS = (JobKind.PLAN_RETRY, JobKind.PLAN_CLOSEOUT, JobKind.PLAN_CLOSE_STEP)


class FrozenClock:
    """`now` for the plan service: fixed, moved only by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def ph(
    database_url: str, fake_slack: FakeSlack, fake_stripe: FakeStripe, tmp_path: Path
) -> AsyncIterator[SlackHarness]:
    async with playbook_harness(database_url, fake_slack, fake_stripe, tmp_path) as harness:
        assert harness.runtime.plans is not None
        harness.runtime.plans.clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
        yield harness


def clock(harness: SlackHarness) -> FrozenClock:
    assert harness.runtime.plans is not None
    frozen = harness.runtime.plans.clock
    assert isinstance(frozen, FrozenClock)
    return frozen


def add_annual(stripe: FakeStripe, *, invoice: str = INVOICE, interval: str = "year") -> None:
    """An annual subscriber whose $99.00 renewal failed once (Stripe will not retry)."""
    stripe.add_customer(id=CUSTOMER, email="ann@example.com", name="Ann Nual")
    stripe.add_subscription(id=SUBSCRIPTION, customer=CUSTOMER, interval=interval)
    stripe.add_invoice(
        id=invoice,
        customer=CUSTOMER,
        amount_due=9_900,
        attempt_count=1,
        next_payment_attempt=None,
        subscription=SUBSCRIPTION,
    )


async def elapse(db: Database, delta: timedelta) -> None:
    """Time passes for the queue: every queued job becomes due `delta` earlier."""
    async with db.transaction() as session:
        for job in (await session.scalars(select(Job).where(Job.status == JobStatus.QUEUED))).all():
            job.run_at = job.run_at - delta


async def queued(db: Database, *kinds: str) -> list[Job]:
    async with db.sessions() as session:
        query = select(Job).where(Job.status == JobStatus.QUEUED)
        if kinds:
            query = query.where(Job.kind.in_(kinds))
        return list((await session.scalars(query.order_by(Job.run_at, Job.id))).all())


async def plan_jobs(db: Database, *statuses: str) -> list[Job]:
    async with db.sessions() as session:
        query = select(Job).where(Job.kind.in_(PLAN_KINDS))
        if statuses:
            query = query.where(Job.status.in_(statuses))
        return list((await session.scalars(query.order_by(Job.id))).all())


async def case_plan(db: Database, invoice: str = INVOICE) -> CasePlan:
    async with db.sessions() as session:
        row = await session.scalar(select(CasePlan).where(CasePlan.invoice_id == invoice))
    assert row is not None
    return row


async def case_of(db: Database, invoice: str = INVOICE) -> Case:
    async with db.sessions() as session:
        case = await session.scalar(select(Case).where(Case.invoice_id == invoice))
    assert case is not None
    return case


async def run_next_retry(harness: SlackHarness) -> Job:
    """Let time pass until the next queued retry is due, and run what is due."""
    db = harness.runtime.db
    [job, *_] = await queued(db, JobKind.PLAN_RETRY)
    wait = job.run_at - datetime.now(UTC)
    if wait > timedelta(0):
        await elapse(db, wait + timedelta(seconds=1))
    await harness.worker.run_until_idle()
    return job


def pay_keys(stripe: FakeStripe, invoice: str = INVOICE) -> list[Any]:
    return [
        r.headers.get("Idempotency-Key")
        for r in stripe.requests_to(f"/v1/invoices/{invoice}/pay", method="POST")
    ]
