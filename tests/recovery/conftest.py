"""The recovery engine on a real database, the real Stripe SDK against a fake Stripe server,
and in-memory Drafter / Mailer / Notifier."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.adapters.stripe_billing import StripeBilling
from recovery.config import RecoveryConfig
from recovery.engine import RecoveryEngine
from storage.db import Database
from storage.models import Case, Draft, Job
from storage.queue import RetryPolicy
from storage.worker import Worker
from tests.fakes.memory import RecordingNotifier, ScriptedMailer, StaticDrafter
from tests.fakes.stripe_events import build_event, store_events
from tests.fakes.stripe_server import DEFAULT_API_KEY, FakeStripe


@dataclass
class Harness:
    db: Database
    stripe: FakeStripe
    engine: RecoveryEngine
    worker: Worker
    drafter: StaticDrafter
    mailer: ScriptedMailer
    notifier: RecordingNotifier

    async def deliver(self, event_type: str, invoice_id: str, **overrides: Any) -> dict[str, Any]:
        """Receive a webhook for the invoice as Stripe holds it now (plus overrides)."""
        invoice = {**self.stripe.update_invoice(invoice_id), **overrides}
        event = build_event(event_type, invoice)
        await store_events(self.db, event)
        return event

    async def run_jobs(self) -> int:
        return await self.worker.run_until_idle()

    async def case(self, invoice_id: str) -> Case | None:
        async with self.db.sessions() as session:
            return await session.scalar(select(Case).where(Case.invoice_id == invoice_id))

    async def drafts(self, case_id: int) -> list[Draft]:
        async with self.db.sessions() as session:
            return list(
                (await session.scalars(select(Draft).where(Draft.case_id == case_id))).all()
            )

    async def jobs(self, kind: str | None = None) -> list[Job]:
        async with self.db.sessions() as session:
            query = select(Job).order_by(Job.id)
            if kind:
                query = query.where(Job.kind == kind)
            return list((await session.scalars(query)).all())


@pytest.fixture
def recovery_config() -> RecoveryConfig:
    return RecoveryConfig(
        vip_ltv_threshold=500_000,
        vip_ltv_thresholds={"eur": 400_000},
        vip_invoice_threshold=50_000,
        company_name="Acme",
        email_from="billing@acme.test",
    )


@pytest.fixture
async def harness(
    db: Database, stripe_api: FakeStripe, recovery_config: RecoveryConfig
) -> AsyncIterator[Harness]:
    billing = StripeBilling.connect(
        api_key=DEFAULT_API_KEY, api_base=stripe_api.base_url, max_network_retries=0
    )
    drafter, mailer, notifier = StaticDrafter(), ScriptedMailer(), RecordingNotifier()
    engine = RecoveryEngine(
        db=db,
        billing=billing,
        drafter=drafter,
        mailer=mailer,
        notifier=notifier,
        config=recovery_config,
    )
    worker = Worker(db, engine.job_handlers(), retry_policy=RetryPolicy(base_s=0, jitter=0))
    yield Harness(db, stripe_api, engine, worker, drafter, mailer, notifier)
    await billing.aclose()


@pytest.fixture
def h(harness: Harness) -> Harness:
    """Short alias used by the flow tests."""
    return harness
