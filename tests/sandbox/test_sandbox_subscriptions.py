"""Sandbox subscriptions and one invoice's clock: the Stripe fields a plan rule reads, dunbot's
retries declining like Stripe's, cancelling, and "advance 7 days" on the billing side."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.sandbox.billing import DEMO_ANNUAL_INVOICE, DEMO_INVOICES, SandboxBilling, seed_demo
from bot.sandbox.subscriptions import subscription_label
from recovery.protocols import BillingError, PaymentDeclined

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
WEEK = timedelta(days=7)


def _clock() -> datetime:
    return NOW


@pytest.fixture
def sandbox() -> SandboxBilling:
    return seed_demo(now=_clock)


async def test_an_annual_invoice_names_its_subscription_and_yearly_price(
    sandbox: SandboxBilling,
) -> None:
    invoice = sandbox.invoice(DEMO_ANNUAL_INVOICE)
    subscription_id = invoice["subscription"]
    assert invoice["parent"]["subscription_details"]["subscription"] == subscription_id
    [line] = invoice["lines"]["data"]
    assert line["price"]["recurring"]["interval"] == "year"
    assert line["parent"]["subscription_item_details"]["subscription"] == subscription_id

    subscription = await sandbox.retrieve_object("subscription", subscription_id)
    [item] = subscription["items"]["data"]
    assert item["price"]["recurring"]["interval"] == "year"
    assert subscription["customer"] == invoice["customer"]
    assert subscription["latest_invoice"] == DEMO_ANNUAL_INVOICE


def test_every_seeded_customer_has_a_monthly_or_yearly_subscription(
    sandbox: SandboxBilling,
) -> None:
    labels = {
        role: subscription_label(sandbox.subscription(sandbox.invoice(invoice)["subscription"]))
        for role, invoice in DEMO_INVOICES.items()
    }
    assert labels == {
        "vip_ltv": "Team · monthly",
        "vip_amount": "Enterprise · yearly",
        "standard_en": "Pro · monthly",
        "standard_fr": "Pro · monthly",
        "standard_de": "Pro · yearly",
        "standard_jpy": "Pro · monthly",
    }


async def test_dunbots_retry_declines_while_the_card_does_then_the_customer_pays(
    sandbox: SandboxBilling,
) -> None:
    sandbox.fail_payment(DEMO_ANNUAL_INVOICE, decline_code="expired_card")
    subscription_id = sandbox.invoice(DEMO_ANNUAL_INVOICE)["subscription"]
    assert sandbox.subscription(subscription_id)["status"] == "past_due"

    for _ in range(2):  # the same key twice: one attempt, the same answer
        with pytest.raises(PaymentDeclined) as declined:
            await sandbox.pay_invoice(DEMO_ANNUAL_INVOICE, idempotency_key="retry-1")
        assert declined.value.decline_code == "expired_card"
    invoice = sandbox.invoice(DEMO_ANNUAL_INVOICE)
    assert invoice["attempt_count"] == 2 and invoice["status"] == "open"
    assert invoice["next_payment_attempt"] is None  # Stripe does not retry annual invoices
    assert [e["type"] for e in sandbox.written_events] == ["invoice.payment_failed"]

    sandbox.pay(DEMO_ANNUAL_INVOICE)
    assert sandbox.subscription(subscription_id)["status"] == "active"


async def test_cancelling_a_subscription_once_per_key(sandbox: SandboxBilling) -> None:
    subscription_id = sandbox.invoice(DEMO_ANNUAL_INVOICE)["subscription"]
    await sandbox.cancel_subscription(subscription_id, at_period_end=False, idempotency_key="k")
    await sandbox.cancel_subscription(subscription_id, at_period_end=False, idempotency_key="k")

    cancelled = sandbox.subscription(subscription_id)
    assert cancelled["status"] == "canceled" and cancelled["canceled_at"] == int(NOW.timestamp())
    assert subscription_label(cancelled) == "Pro · yearly · cancelled"
    assert [e["type"] for e in sandbox.written_events] == ["customer.subscription.deleted"]
    with pytest.raises(BillingError, match="already canceled"):
        await sandbox.cancel_subscription(subscription_id, at_period_end=False, idempotency_key="2")


def test_advancing_an_invoice_moves_its_dates_and_only_its_own(sandbox: SandboxBilling) -> None:
    before = sandbox.invoice(DEMO_ANNUAL_INVOICE)
    neighbour = sandbox.invoice(DEMO_INVOICES["standard_en"])

    assert sandbox.advance_invoice(DEMO_ANNUAL_INVOICE, by=WEEK) == []  # not yet due

    after = sandbox.invoice(DEMO_ANNUAL_INVOICE)
    assert after["due_date"] == before["due_date"] - WEEK.total_seconds()
    assert after["created"] == before["created"] - WEEK.total_seconds()
    assert sandbox.advanced_by(DEMO_ANNUAL_INVOICE) == WEEK
    assert sandbox.invoice(DEMO_INVOICES["standard_en"]) == neighbour
    assert sandbox.advanced_by(DEMO_INVOICES["standard_en"]) == timedelta(0)


def test_passing_the_due_date_sends_invoice_overdue_once(sandbox: SandboxBilling) -> None:
    invoice_id = DEMO_INVOICES["vip_amount"]  # due 14 days after the seed
    sandbox.advance_invoice(invoice_id, by=WEEK)
    sandbox.advance_invoice(invoice_id, by=WEEK)  # exactly on the due date: not overdue yet
    [overdue] = sandbox.advance_invoice(invoice_id, by=WEEK)
    assert overdue["type"] == "invoice.overdue"
    assert overdue["data"]["object"]["id"] == invoice_id
    assert overdue["created"] <= int(NOW.timestamp())
    assert sandbox.advance_invoice(invoice_id, by=WEEK) == []


def test_stripes_automatic_retry_in_the_window_fails_again(sandbox: SandboxBilling) -> None:
    invoice_id = DEMO_INVOICES["standard_en"]
    sandbox.fail_payment(invoice_id, decline_code="insufficient_funds")  # next attempt in 3 days

    [retried] = sandbox.advance_invoice(invoice_id, by=WEEK)

    assert retried["type"] == "invoice.payment_failed"
    assert retried["created"] == int((NOW - WEEK + timedelta(days=3)).timestamp())
    invoice = sandbox.invoice(invoice_id)
    assert invoice["attempt_count"] == 2
    # The next attempt is 5 days after the retry, which was 4 days ago in the invoice's time.
    assert invoice["next_payment_attempt"] == int((NOW + timedelta(days=1)).timestamp())


async def test_a_close_out_marks_then_cancels_and_voids_once_per_key(
    sandbox: SandboxBilling,
) -> None:
    subscription_id = sandbox.invoice(DEMO_ANNUAL_INVOICE)["subscription"]
    for _ in range(2):
        await sandbox.update_subscription_metadata(
            subscription_id, {"dunbot_closeout": "true"}, idempotency_key="mark"
        )
        await sandbox.void_invoice(DEMO_ANNUAL_INVOICE, idempotency_key="void")

    assert sandbox.subscription(subscription_id)["metadata"] == {"dunbot_closeout": "true"}
    assert sandbox.invoice(DEMO_ANNUAL_INVOICE)["status"] == "void"
    assert [e["type"] for e in sandbox.written_events] == ["invoice.voided"]
    with pytest.raises(BillingError):  # a void invoice cannot be voided again
        await sandbox.void_invoice(DEMO_ANNUAL_INVOICE, idempotency_key="another")
