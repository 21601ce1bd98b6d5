"""What an event queues after it is applied: the customer facts refresh, coalesced per
customer while one is waiting, and the event marked processed with it."""

from __future__ import annotations

import time
from dataclasses import replace

from sqlalchemy import select

from recovery.config import RecoveryConfig
from recovery.engine import RecoveryEngine
from recovery.jobkinds import JobKind
from storage import queue
from storage.models import Job, JobStatus, StripeEventRow
from storage.worker import Worker
from tests.recovery.conftest import Harness

IN_3_DAYS = int(time.time()) + 3 * 86400


def failing_invoice(h: Harness, invoice_id: str, customer: str = "cus_many") -> None:
    h.stripe.add_invoice(
        id=invoice_id,
        customer=customer,
        amount_due=4_900,
        attempt_count=1,
        next_payment_attempt=IN_3_DAYS,
    )
    h.stripe.add_failed_payment(invoice_id, decline_code="insufficient_funds")


def with_facts_refresh(h: Harness, config: RecoveryConfig) -> Worker:
    """The harness's engine as `dunbot serve` wires it: events queue a facts refresh."""
    engine = RecoveryEngine(
        db=h.db,
        billing=h.engine.cases.billing,
        drafter=h.drafter,
        mailer=h.mailer,
        notifier=h.notifier,
        config=replace(config, refresh_customer_facts=True),
    )
    return Worker(h.db, engine.job_handlers())  # no refresh handler: those jobs stay queued


async def refresh_jobs(h: Harness) -> list[Job]:
    async with h.db.sessions() as session:
        query = select(Job).where(Job.kind == JobKind.REFRESH_CUSTOMER).order_by(Job.id)
        return list((await session.scalars(query)).all())


async def test_failures_of_one_customer_share_the_refresh_that_has_not_started(
    h: Harness, recovery_config: RecoveryConfig
) -> None:
    worker = with_facts_refresh(h, recovery_config)
    h.stripe.add_customer(id="cus_many", email="many@example.com", name="Many")
    for n in range(3):
        failing_invoice(h, f"in_many{n}")
        await h.deliver("invoice.payment_failed", f"in_many{n}")
    await worker.run_until_idle()
    [waiting] = await refresh_jobs(h)
    assert waiting.status == JobStatus.QUEUED and waiting.payload["customer_id"] == "cus_many"
    async with h.db.sessions() as session:
        results = (await session.scalars(select(StripeEventRow.result))).all()
    assert list(results) == ["draft_planned"] * 3  # each event marked processed

    # Once the refresh has started it may have read Stripe before the next failure: a new one.
    started = await queue.claim(
        h.db, worker_id="w", lease_s=30, kinds=[JobKind.REFRESH_CUSTOMER.value]
    )
    assert started is not None and started.id == waiting.id
    failing_invoice(h, "in_many3")
    await h.deliver("invoice.payment_failed", "in_many3")
    await worker.run_until_idle()
    jobs = await refresh_jobs(h)
    assert [job.status for job in jobs] == [JobStatus.RUNNING, JobStatus.QUEUED]


async def test_each_customer_gets_its_own_refresh(
    h: Harness, recovery_config: RecoveryConfig
) -> None:
    worker = with_facts_refresh(h, recovery_config)
    for customer in ("cus_a", "cus_b"):
        h.stripe.add_customer(id=customer, email=f"{customer}@example.com", name=customer)
        failing_invoice(h, f"in_{customer}", customer=customer)
        await h.deliver("invoice.payment_failed", f"in_{customer}")
    await worker.run_until_idle()
    assert sorted(job.payload["customer_id"] for job in await refresh_jobs(h)) == [
        "cus_a",
        "cus_b",
    ]
