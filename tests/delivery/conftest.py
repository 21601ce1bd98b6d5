"""Delivery against a real SMTP server: the recovery engine with the real SmtpMailer (no TLS)
talking to a ScriptedSmtpServer, the real Stripe SDK against a fake Stripe, a real database.

Two harnesses:
- `dh`: the engine, an in-process worker, a recording notifier (cards as calls);
- `ssh`: dunbot fully wired (Bolt, fake Slack Web API) with EMAIL_BACKEND=smtp, for cards.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.adapters.mail.smtp import SmtpMailer
from bot.adapters.stripe_billing import StripeBilling
from bot.slack.actors import slack_actor
from recovery import decisions
from recovery.config import RecoveryConfig
from recovery.engine import RecoveryEngine
from storage.db import Database
from storage.models import Case, Draft, Job, OutboxEmail, utcnow
from storage.queue import RetryPolicy
from storage.worker import Worker
from tests.fakes.memory import RecordingNotifier, StaticDrafter
from tests.fakes.slack_server import FakeSlack
from tests.fakes.smtp_server import ScriptedSmtpServer
from tests.fakes.stripe_events import build_event, store_events
from tests.fakes.stripe_server import DEFAULT_API_KEY, FakeStripe
from tests.slack_flow.conftest import SlackHarness, wired_harness

IN_3_DAYS = int(time.time()) + 3 * 86400
CUSTOMER_EMAIL = "ana@example.com"


def add_standard_invoice(
    stripe: FakeStripe, invoice_id: str = "in_std", customer: str = "cus_std"
) -> None:
    """A standard-segment customer whose first payment attempt just failed."""
    stripe.add_customer(id=customer, email=CUSTOMER_EMAIL, name="Ana")
    stripe.add_paid_invoices(customer=customer, count=2, amount=4_900)
    stripe.add_invoice(
        id=invoice_id,
        customer=customer,
        amount_due=4_900,
        attempt_count=1,
        next_payment_attempt=IN_3_DAYS,
    )
    stripe.add_failed_payment(invoice_id, decline_code="insufficient_funds")


def mark_paid(stripe: FakeStripe, invoice_id: str = "in_std") -> None:
    """The customer paid in Stripe (no webhook delivered yet)."""
    stripe.update_invoice(invoice_id, status="paid", amount_paid=4_900, amount_remaining=0)


@dataclass
class DeliveryHarness:
    db: Database
    stripe: FakeStripe
    smtp: ScriptedSmtpServer
    engine: RecoveryEngine
    worker: Worker
    notifier: RecordingNotifier

    async def run_jobs(self) -> int:
        return await self.worker.run_until_idle()

    async def pending_draft(self, invoice_id: str = "in_std") -> Draft:
        """Open a case for a failed payment and return its draft, waiting for approval."""
        add_standard_invoice(self.stripe, invoice_id)
        event = build_event("invoice.payment_failed", self.stripe.update_invoice(invoice_id))
        await store_events(self.db, event)
        await self.run_jobs()
        async with self.db.sessions() as session:
            case = await session.scalar(select(Case).where(Case.invoice_id == invoice_id))
            assert case is not None
            draft = await session.scalar(select(Draft).where(Draft.case_id == case.id))
        assert draft is not None
        return draft

    async def approve(self, draft: Draft, user: str = "UFIN") -> decisions.Outcome:
        async with self.db.transaction() as session:
            return await decisions.approve_draft(
                session, draft_id=draft.id, version=draft.version, actor=slack_actor(user)
            )

    async def outboxes(self) -> list[OutboxEmail]:
        async with self.db.sessions() as session:
            return list((await session.scalars(select(OutboxEmail).order_by(OutboxEmail.id))).all())

    async def outbox(self) -> OutboxEmail:
        [row] = await self.outboxes()
        return row

    async def case(self, invoice_id: str = "in_std") -> Case:
        async with self.db.sessions() as session:
            case = await session.scalar(select(Case).where(Case.invoice_id == invoice_id))
        assert case is not None
        return case

    async def jobs(self, kind: str) -> list[Job]:
        async with self.db.sessions() as session:
            query = select(Job).where(Job.kind == kind).order_by(Job.id)
            return list((await session.scalars(query)).all())

    async def make_due(self, job_id: int) -> None:
        """Time passes: the job's run_at is now."""
        async with self.db.transaction() as session:
            await session.execute(update(Job).where(Job.id == job_id).values(run_at=utcnow()))


@pytest.fixture
def recovery_config() -> RecoveryConfig:
    return RecoveryConfig(company_name="Acme", email_from="billing@acme.test")


@pytest.fixture
async def dh(
    db: Database, stripe_api: FakeStripe, smtp: ScriptedSmtpServer, recovery_config: RecoveryConfig
) -> AsyncIterator[DeliveryHarness]:
    billing = StripeBilling.connect(
        api_key=DEFAULT_API_KEY, api_base=stripe_api.base_url, max_network_retries=0
    )
    mailer = SmtpMailer(host=smtp.host, port=smtp.port, tls_mode="none", timeout_s=5)
    notifier = RecordingNotifier()
    engine = RecoveryEngine(
        db=db,
        billing=billing,
        drafter=StaticDrafter(),
        mailer=mailer,
        notifier=notifier,
        config=recovery_config,
    )
    worker = Worker(db, engine.job_handlers(), retry_policy=RetryPolicy(base_s=0, jitter=0))
    yield DeliveryHarness(db, stripe_api, smtp, engine, worker, notifier)
    await billing.aclose()


@pytest.fixture
async def ssh(
    database_url: str,
    fake_slack: FakeSlack,
    stripe_api: FakeStripe,
    smtp: ScriptedSmtpServer,
    tmp_path: Path,
) -> AsyncIterator[SlackHarness]:
    """The Slack-wired app as in tests/slack_flow, but sending through the SMTP server."""
    async with wired_harness(
        database_url,
        fake_slack,
        stripe_api,
        tmp_path,
        email_backend="smtp",
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_tls="false",
        email_from="billing@acme.test",
    ) as harness:
        yield harness
