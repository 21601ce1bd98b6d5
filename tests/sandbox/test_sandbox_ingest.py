"""Sandbox events through the same ingest path as verified webhooks, into the real engine."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.sandbox.billing import DEMO_INVOICES, seed_demo
from recovery.config import RecoveryConfig
from recovery.engine import RecoveryEngine
from storage.db import Database
from storage.models import Case, CaseStatus
from storage.queue import RetryPolicy
from storage.worker import Worker
from tests.fakes.memory import RecordingNotifier, ScriptedMailer, StaticDrafter
from tests.fakes.stripe_events import store_events


async def _ingest(db: Database, worker: Worker, event: dict[str, Any]) -> None:
    assert await store_events(db, event) == [True]
    await worker.run_until_idle()


async def _case(db: Database, invoice_id: str) -> Case:
    async with db.sessions() as session:
        case = await session.scalar(select(Case).where(Case.invoice_id == invoice_id))
    assert case is not None
    return case


async def test_demo_failures_open_cases_and_payment_settles_them(db: Database) -> None:
    sandbox = seed_demo()
    engine = RecoveryEngine(
        db=db,
        billing=sandbox,
        drafter=StaticDrafter(),
        mailer=ScriptedMailer(),
        notifier=RecordingNotifier(),
        config=RecoveryConfig(),
    )
    worker = Worker(db, engine.job_handlers(), retry_policy=RetryPolicy(base_s=0, jitter=0))
    standard, vip = DEMO_INVOICES["standard_en"], DEMO_INVOICES["vip_ltv"]

    await _ingest(db, worker, sandbox.fail_payment(standard, decline_code="expired_card"))
    await _ingest(db, worker, sandbox.fail_payment(vip))

    opened = await _case(db, standard)
    assert (opened.status, opened.segment) == (CaseStatus.OPEN, "standard")
    assert (opened.currency, opened.amount_remaining) == ("usd", 4900)
    assert opened.decline_category == "expired_card"
    assert opened.hosted_invoice_url == f"https://invoice.stripe.com/i/sandbox/{standard}"
    assert (await _case(db, vip)).segment == "vip"

    await _ingest(db, worker, sandbox.pay(standard))

    paid = await _case(db, standard)
    assert (paid.status, paid.amount_recovered) == (CaseStatus.PAID, 4900)
