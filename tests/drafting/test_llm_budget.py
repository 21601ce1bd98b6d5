"""LLM_REQUESTS_PER_MINUTE and a 429's Retry-After, shared by every worker through the
database: drafts over budget are re-queued (not lost, not dropped to the template), with the
real OpenAI SDK against the fake OpenAI server and a controllable clock."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest
from sqlalchemy import select, update

from bot.adapters.llm.budget import SharedLLMBudget
from bot.adapters.llm.factory import build_drafter
from bot.adapters.stripe_billing import StripeBilling
from recovery.config import RecoveryConfig
from recovery.drafting import GuardedDrafter
from recovery.engine import RecoveryEngine
from recovery.jobkinds import JobKind
from storage.db import Database
from storage.models import Draft, Job, JobStatus, utcnow
from storage.queue import RetryPolicy
from storage.worker import Worker
from tests.fakes.llm_servers import FakeOpenAI, LLMReply
from tests.fakes.memory import RecordingNotifier, ScriptedMailer
from tests.fakes.stripe_events import build_event, store_events
from tests.fakes.stripe_server import DEFAULT_API_KEY, FakeStripe

IN_3_DAYS = int(time.time()) + 3 * 86400


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = field(default_factory=lambda: datetime(2026, 12, 2, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class BudgetWorker:
    """One worker process's parts: its own engine, drafter and budget on a shared database."""

    db: Database
    drafter: GuardedDrafter
    worker: Worker


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


class MakeWorker(Protocol):
    async def __call__(self, *, per_minute: int, clock: Clock) -> BudgetWorker: ...


@pytest.fixture
async def make_worker(
    database_url: str, stripe_api: FakeStripe, fake_openai: FakeOpenAI
) -> AsyncIterator[MakeWorker]:
    """Build workers as separate processes would: each its own Database and drafter."""
    closing = contextlib.AsyncExitStack()

    async def build(*, per_minute: int, clock: Clock) -> BudgetWorker:
        db = Database(database_url)
        closing.push_async_callback(db.dispose)
        billing = StripeBilling.connect(
            api_key=DEFAULT_API_KEY, api_base=stripe_api.base_url, max_network_retries=0
        )
        closing.push_async_callback(billing.aclose)
        drafter = build_drafter(
            "openai",
            openai_api_key="sk-test",
            openai_base_url=fake_openai.base_url,
            timeout_s=10,
            budget=SharedLLMBudget(db=db, requests_per_minute=per_minute, clock=clock),
        )
        closing.push_async_callback(drafter.aclose)
        engine = RecoveryEngine(
            db=db,
            billing=billing,
            drafter=drafter,
            mailer=ScriptedMailer(),
            notifier=RecordingNotifier(),
            config=RecoveryConfig(company_name="Acme", email_from="billing@acme.test"),
        )
        worker = Worker(db, engine.job_handlers(), retry_policy=RetryPolicy(base_s=0, jitter=0))
        return BudgetWorker(db=db, drafter=drafter, worker=worker)

    async with closing:
        yield build


async def fail_invoices(db: Database, stripe: FakeStripe, count: int, *, start: int = 0) -> None:
    """`count` failed invoices of distinct customers, delivered as webhooks."""
    for n in range(start, start + count):
        customer, invoice = f"cus_b{n}", f"in_b{n}"
        stripe.add_customer(id=customer, email=f"c{n}@example.com", name=f"Customer {n}")
        stripe.add_paid_invoices(customer=customer, count=1, amount=4_900)
        stripe.add_invoice(
            id=invoice,
            customer=customer,
            amount_due=4_900,
            attempt_count=1,
            next_payment_attempt=IN_3_DAYS,
        )
        stripe.add_failed_payment(invoice, decline_code="insufficient_funds")
        event = build_event("invoice.payment_failed", stripe.update_invoice(invoice))
        await store_events(db, event)


async def draft_jobs(db: Database) -> list[Job]:
    async with db.sessions() as session:
        query = select(Job).where(Job.kind == JobKind.DRAFT_EMAIL).order_by(Job.id)
        return list((await session.scalars(query)).all())


async def drafts(db: Database) -> list[Draft]:
    async with db.sessions() as session:
        return list((await session.scalars(select(Draft).order_by(Draft.id))).all())


async def make_waiting_drafts_due(db: Database) -> None:
    """The real queue's clock: what the controllable clock's advance means to waiting jobs."""
    async with db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.kind == JobKind.DRAFT_EMAIL, Job.status == JobStatus.QUEUED)
            .values(run_at=utcnow())
        )


async def test_budget_of_5_per_minute_drafts_5_and_requeues_the_rest(
    make_worker: MakeWorker, stripe_api: FakeStripe, fake_openai: FakeOpenAI
) -> None:
    clock = Clock()
    first = await make_worker(per_minute=5, clock=clock)
    second = await make_worker(per_minute=5, clock=clock)
    await fail_invoices(first.db, stripe_api, 8)
    # Two workers share the budget: the first takes as much as it can, the second the rest.
    await first.worker.run_until_idle()
    await second.worker.run_until_idle()

    assert len(fake_openai.requests) == 5
    made = await drafts(first.db)
    assert len(made) == 5 and {draft.source for draft in made} == {"ai"}
    waiting = [job for job in await draft_jobs(first.db) if job.status == JobStatus.QUEUED]
    assert len(waiting) == 3
    for job in waiting:
        assert "budget of 5 requests per minute spent" in (job.last_error or "")
        assert job.attempts == 0  # a wait is not a failed attempt
        assert job.run_at > utcnow() + timedelta(seconds=30)  # the minute is not over

    clock.advance(30)  # still inside the minute: nothing more goes out
    await make_waiting_drafts_due(first.db)
    await second.worker.run_until_idle()
    assert len(fake_openai.requests) == 5

    clock.advance(31)  # the first five calls leave the window
    await make_waiting_drafts_due(first.db)
    await second.worker.run_until_idle()
    made = await drafts(first.db)
    assert len(fake_openai.requests) == 8
    assert len(made) == 8 and {draft.source for draft in made} == {"ai"}
    assert all(job.status == JobStatus.SUCCEEDED for job in await draft_jobs(first.db))


async def test_a_429_retry_after_holds_every_worker(
    make_worker: MakeWorker, stripe_api: FakeStripe, fake_openai: FakeOpenAI
) -> None:
    clock = Clock()
    first = await make_worker(per_minute=0, clock=clock)
    second = await make_worker(per_minute=0, clock=clock)
    fake_openai.enqueue(LLMReply.rate_limited(retry_after_s=30))
    await fail_invoices(first.db, stripe_api, 1)
    await first.worker.run_until_idle()
    await fail_invoices(first.db, stripe_api, 1, start=1)
    await second.worker.run_until_idle()

    assert len(fake_openai.requests) == 1  # the second worker did not call at all
    assert await drafts(first.db) == []  # waiting, not dropped to the template
    jobs = await draft_jobs(first.db)
    assert [job.status for job in jobs] == [JobStatus.QUEUED, JobStatus.QUEUED]
    assert all("429 Retry-After" in (job.last_error or "") for job in jobs)

    clock.advance(31)
    await make_waiting_drafts_due(first.db)
    await second.worker.run_until_idle()
    made = await drafts(first.db)
    assert len(made) == 2 and {draft.source for draft in made} == {"ai"}
    assert len(fake_openai.requests) == 3
