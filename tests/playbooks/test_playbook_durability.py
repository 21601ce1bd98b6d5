"""At most once: a crash between the Stripe write and its record, idempotency keys, waits
cancelled when the invoice is paid, failures that reach a person."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.adapters.stripe_billing import StripeBilling
from recovery.protocols import BillingWriter
from storage.models import Job, JobStatus, PlaybookActionStatus, utcnow
from tests.fakes.stripe_server import DEFAULT_API_KEY
from tests.playbooks.conftest import (
    ALERTS,
    actions,
    audit_actions,
    deliver,
    playbook_harness,
)
from tests.slack_flow.conftest import SlackHarness, message_text


class WorkerDied(BaseException):
    """Stands for kill -9: nothing after the Stripe write runs in this process."""


class DiesAfterRefund:
    """The real Stripe writer, but the process 'dies' right after Stripe answered a refund."""

    def __init__(self, real: BillingWriter) -> None:
        self.real = real

    async def refund_charge(
        self, charge_id: str, *, amount: int | None, reason: str | None, idempotency_key: str
    ) -> str:
        await self.real.refund_charge(
            charge_id, amount=amount, reason=reason, idempotency_key=idempotency_key
        )
        raise WorkerDied

    async def update_customer_metadata(
        self, customer_id: str, metadata: Mapping[str, str], *, idempotency_key: str
    ) -> None:
        await self.real.update_customer_metadata(
            customer_id, metadata, idempotency_key=idempotency_key
        )

    async def cancel_subscription(
        self, subscription_id: str, *, at_period_end: bool, idempotency_key: str
    ) -> None:
        await self.real.cancel_subscription(
            subscription_id, at_period_end=at_period_end, idempotency_key=idempotency_key
        )

    async def pay_invoice(self, invoice_id: str, *, idempotency_key: str) -> None:
        await self.real.pay_invoice(invoice_id, idempotency_key=idempotency_key)

    async def mark_invoice_uncollectible(self, invoice_id: str, *, idempotency_key: str) -> None:
        await self.real.mark_invoice_uncollectible(invoice_id, idempotency_key=idempotency_key)


async def test_crash_between_refund_and_its_record_refunds_once(pb: SlackHarness) -> None:
    pb.stripe.add_charge(id="ch_1", amount=900, customer=None)
    warning = pb.stripe.add_early_fraud_warning(charge="ch_1")
    runner = pb.runtime.playbooks
    assert runner is not None
    real_writer = runner.writer
    assert real_writer is not None
    runner.writer = DiesAfterRefund(real_writer)
    with pytest.raises(WorkerDied):
        await deliver(pb, "radar.early_fraud_warning.created", warning)
    [action] = await actions(pb)
    assert action.status == PlaybookActionStatus.PENDING  # the record never happened

    runner.writer = real_writer
    async with pb.runtime.db.transaction() as session:  # the lease of the dead worker expires
        await session.execute(
            update(Job).where(Job.status == JobStatus.RUNNING).values(lease_expires_at=utcnow())
        )
    await pb.worker.run_until_idle()

    assert len(pb.stripe.refunds) == 1
    [action] = await actions(pb)
    assert action.status == PlaybookActionStatus.DONE
    assert action.result == "charge ch_1 already refunded: nothing done"


async def test_the_same_idempotency_key_refunds_once(fake_stripe: Any) -> None:
    fake_stripe.add_charge(id="ch_2", amount=5_000)
    billing = StripeBilling.connect(
        api_key=DEFAULT_API_KEY, api_base=fake_stripe.base_url, max_network_retries=0
    )
    try:
        first = await billing.refund_charge("ch_2", amount=None, reason=None, idempotency_key="k1")
        again = await billing.refund_charge("ch_2", amount=None, reason=None, idempotency_key="k1")
    finally:
        await billing.aclose()
    assert first == again and len(fake_stripe.refunds) == 1


WAITING_RULES = """
[[rule]]
name = "Overdue: chase after a week"
trigger = "invoice.overdue"
conditions = ['amount_remaining > "10.00 USD"']

[[rule.action]]
wait = "7d"

[[rule.action]]
type = "slack"
channel = "alerts"
text = "Invoice {id} is still unpaid a week later."
"""


@pytest.fixture
def waiting_rules(tmp_path: Path) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(WAITING_RULES)
    return path


@pytest.fixture
async def pbw(
    database_url: str, fake_slack: Any, fake_stripe: Any, tmp_path: Path, waiting_rules: Path
) -> Any:
    async with playbook_harness(
        database_url, fake_slack, fake_stripe, tmp_path, rules=waiting_rules
    ) as harness:
        yield harness


async def make_due(harness: SlackHarness) -> None:
    async with harness.runtime.db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.status == JobStatus.QUEUED)
            .values(run_at=utcnow() - timedelta(seconds=1))
        )
    await harness.worker.run_until_idle()


async def test_wait_is_a_due_job_then_the_next_action_runs(pbw: SlackHarness) -> None:
    pbw.stripe.add_customer(id="cus_w")
    invoice = pbw.stripe.add_invoice(id="in_w", customer="cus_w", amount_due=5_000)
    await deliver(pbw, "invoice.overdue", invoice)
    wait, post = await actions(pbw)
    assert wait.status == PlaybookActionStatus.PENDING and wait.due_at is not None
    assert wait.due_at - utcnow() > timedelta(days=6, hours=23)
    async with pbw.runtime.db.sessions() as session:
        job = await session.scalar(select(Job).where(Job.kind == "playbook_action"))
    assert job is not None and job.status == JobStatus.QUEUED  # durable: a row, not a timer

    await make_due(pbw)
    texts = [message_text(m) for (c, _), m in pbw.slack.messages.items() if c == ALERTS]
    assert len(texts) == 1 and "in_w is still unpaid" in texts[0]


async def test_paying_the_invoice_cancels_the_wait(pbw: SlackHarness) -> None:
    pbw.stripe.add_customer(id="cus_p")
    invoice = pbw.stripe.add_invoice(id="in_p", customer="cus_p", amount_due=5_000)
    await deliver(pbw, "invoice.overdue", invoice)
    paid = pbw.stripe.update_invoice("in_p", status="paid", amount_remaining=0, amount_paid=5_000)
    await deliver(pbw, "invoice.paid", paid)
    await make_due(pbw)

    assert all(a.status == PlaybookActionStatus.CANCELLED for a in await actions(pbw))
    assert not any(c == ALERTS for c, _ in pbw.slack.messages)
    assert [e.action for e in await audit_actions(pbw)][-1] == "playbook.cancelled"


async def test_a_failing_action_retries_then_tells_a_person(pb: SlackHarness) -> None:
    pb.stripe.add_charge(id="ch_f", amount=900)
    warning = pb.stripe.add_early_fraud_warning(charge="ch_f")
    pb.stripe.fail_next(50, status=500, path_prefix="/v1/refunds")
    await deliver(pb, "radar.early_fraud_warning.created", warning)

    [action] = await actions(pb)
    assert action.status == PlaybookActionStatus.FAILED
    assert len(pb.stripe.requests_to("/v1/refunds", method="POST")) == 6  # max attempts
    [report] = [message_text(m) for (c, _), m in pb.slack.messages.items() if c == ALERTS]
    assert "could not refund charge ch_f" in report
    assert [e.action for e in await audit_actions(pb)][-1] == "playbook.action_failed"
