"""Overdue invoices: Stripe's `invoice.overdue` and the daily sweep alert collections once per
(rule, invoice) across workers and restarts; Claim is once; the digest lists what is left."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import func, select

from bot.playbooks.overdue_cards import CLAIM_ACTION_ID, OVERDUE_CARD_KIND
from recovery.jobkinds import JobKind
from recovery.playbooks.overdue import sweep_day
from recovery.playbooks.ports import OverdueInvoices
from recovery.playbooks.runner import PlaybookRunner
from recovery.playbooks.sweep import run_overdue_sweep, schedule_overdue_sweep
from storage.models import Job, utcnow
from tests.fakes.slack_server import FakeSlack
from tests.fakes.stripe_server import FakeStripe
from tests.playbooks.conftest import COLLECTIONS, actions, deliver, playbook_harness
from tests.slack_flow.conftest import FINANCE, FINANCE_2, OUTSIDER, SlackHarness, message_text

DAY = 86_400


def collections(harness: SlackHarness) -> list[str]:
    return [
        message_text(m)
        for (where, _ts), m in harness.slack.messages.items()
        if where == COLLECTIONS
    ]


def alerts(harness: SlackHarness) -> list[str]:
    return [t for t in collections(harness) if "Overdue invoice" in t]


def digests(harness: SlackHarness) -> list[str]:
    return [t for t in collections(harness) if "Still overdue today" in t]


def seed(stripe: FakeStripe) -> None:
    """One invoice for collections, and three that are not: small, not yet due, paid."""
    now = int(time.time())
    stripe.add_customer(id="cus_late", name="Late Ltd", email="ap@late.example")
    stripe.add_invoice(
        id="in_late", customer="cus_late", amount_due=60_000, number="INV-42",
        due_date=now - 10 * DAY - 60,
    )  # fmt: skip
    stripe.add_invoice(id="in_small", customer="cus_late", amount_due=10_000, due_date=now - DAY)
    stripe.add_invoice(id="in_soon", customer="cus_late", amount_due=90_000, due_date=now + DAY)
    stripe.add_invoice(
        id="in_done", customer="cus_late", amount_due=90_000, status="paid", due_date=now - DAY
    )


def runner_of(harness: SlackHarness) -> PlaybookRunner:
    runner = harness.runtime.playbooks
    assert runner is not None
    return runner


def lister(harness: SlackHarness) -> OverdueInvoices:
    return cast(OverdueInvoices, runner_of(harness).objects)


async def sweep_jobs(harness: SlackHarness) -> int:
    async with harness.runtime.db.sessions() as session:
        count = await session.scalar(
            select(func.count(Job.id)).where(Job.kind == JobKind.OVERDUE_SWEEP.value)
        )
    return int(count or 0)


async def test_overdue_alert_fires_once_across_two_workers_the_event_and_a_restart(
    database_url: str, fake_slack: FakeSlack, fake_stripe: FakeStripe, tmp_path: Path
) -> None:
    seed(fake_stripe)
    today = sweep_day(utcnow())
    async with (
        playbook_harness(database_url, fake_slack, fake_stripe, tmp_path / "a") as a,
        playbook_harness(database_url, fake_slack, fake_stripe, tmp_path / "b") as b,
    ):
        # Both workers start and queue today's sweep: one job.
        started = [await schedule_overdue_sweep(runner_of(h)) for h in (a, b)]
        assert started == [True, False]
        # Two sweeps racing (as if two schedulers had run) and both workers draining the queue.
        await asyncio.gather(
            run_overdue_sweep(runner_of(a), lister(a), day=today),
            run_overdue_sweep(runner_of(b), lister(b), day=today),
        )
        await asyncio.gather(a.worker.run_until_idle(), b.worker.run_until_idle())
        # Stripe's own event arrives too (a new event id): still the same invoice.
        await deliver(a, "invoice.overdue", fake_stripe.update_invoice("in_late"))

        [alert] = alerts(a)
        assert "in_late" in alert and "INV-42" in alert and "$600.00" in alert
        assert "10 days overdue" in alert and "Late Ltd" in alert
        assert not any(i in alert for i in ("in_small", "in_soon", "in_done"))
        [digest] = digests(a)
        assert "in_late" in digest and "1 invoice" in digest and "in_small" not in digest
        assert await sweep_jobs(a) == 2  # today's and tomorrow's, not one per worker

    async with playbook_harness(database_url, fake_slack, fake_stripe, tmp_path / "c") as c:
        assert await schedule_overdue_sweep(runner_of(c)) is False  # restarted: already queued
        tomorrow = utcnow() + timedelta(days=1)
        await run_overdue_sweep(runner_of(c), lister(c), day=sweep_day(tomorrow), now=tomorrow)
        await c.worker.run_until_idle()
        assert len(alerts(c)) == 1  # no second alert for the same invoice and rule
        assert len(digests(c)) == 2  # but tomorrow's digest still lists it
        assert "in_late" in digests(c)[-1] and "11 days overdue" in digests(c)[-1]


async def test_an_invoice_paid_before_the_alert_runs_is_not_posted(
    database_url: str, fake_slack: FakeSlack, fake_stripe: FakeStripe, tmp_path: Path
) -> None:
    seed(fake_stripe)
    async with playbook_harness(database_url, fake_slack, fake_stripe, tmp_path) as pb:
        event_invoice = fake_stripe.update_invoice("in_late")
        fake_stripe.update_invoice("in_late", status="paid", amount_remaining=0)
        await deliver(pb, "invoice.overdue", event_invoice)  # the event still says open
        assert alerts(pb) == []
        [action] = await actions(pb)
        assert "not overdue: nothing posted" in (action.result or "")


async def test_claim_is_once_and_for_finance_or_account_managers_only(
    database_url: str, fake_slack: FakeSlack, fake_stripe: FakeStripe, tmp_path: Path
) -> None:
    seed(fake_stripe)
    async with playbook_harness(database_url, fake_slack, fake_stripe, tmp_path) as pb:
        await deliver(pb, "invoice.overdue", fake_stripe.update_invoice("in_late"))
        [action] = await actions(pb)
        card = await pb.card(OVERDUE_CARD_KIND, action.id)

        await pb.click(CLAIM_ACTION_ID, OUTSIDER, card)
        await pb.click(CLAIM_ACTION_ID, FINANCE, card)
        await pb.click(CLAIM_ACTION_ID, FINANCE_2, card)  # the stale card still has the button
        await pb.worker.run_until_idle()

        updated = await pb.card(OVERDUE_CARD_KIND, action.id)
        text = message_text(updated)
        assert f"Claimed by <@{FINANCE}>" in text and CLAIM_ACTION_ID not in text
        replies = {e["user"]: e["text"] for e in pb.slack.ephemerals}
        assert "Only finance approvers" in replies[OUTSIDER]
        assert replies[FINANCE].startswith("Claimed")
        assert f"Already claimed by <@{FINANCE}>" in replies[FINANCE_2]
