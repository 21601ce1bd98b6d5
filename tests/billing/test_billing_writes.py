"""BillingWriter on the real SDK against the fake Stripe: pay (declines, already paid),
cancel a subscription, mark uncollectible — each with its Idempotency-Key replayed."""

from __future__ import annotations

import pytest

from bot.adapters.stripe_billing import StripeBilling
from recovery.protocols import BillingError, PaymentDeclined
from tests.fakes.stripe_server import FakeStripe


@pytest.fixture
def invoice(stripe_api: FakeStripe) -> str:
    stripe_api.add_customer(id="cus_pay", email="pay@example.com")
    return str(stripe_api.add_invoice(id="in_pay", customer="cus_pay", amount_due=5_000)["id"])


async def test_a_declined_retry_raises_and_the_same_key_replays_the_decline(
    billing: StripeBilling, stripe_api: FakeStripe, invoice: str
) -> None:
    stripe_api.decline_next_payments(invoice, code="insufficient_funds")
    with pytest.raises(PaymentDeclined) as declined:
        await billing.pay_invoice(invoice, idempotency_key="dunbot-retry-in_pay-1")
    assert declined.value.decline_code == "insufficient_funds"
    with pytest.raises(PaymentDeclined):  # a crashed job repeating retry 1: same answer
        await billing.pay_invoice(invoice, idempotency_key="dunbot-retry-in_pay-1")
    assert stripe_api.invoices_attempts(invoice) == 1

    await billing.pay_invoice(invoice, idempotency_key="dunbot-retry-in_pay-2")
    assert (await billing.retrieve_object("invoice", invoice))["status"] == "paid"
    await billing.pay_invoice(invoice, idempotency_key="dunbot-retry-in_pay-3")  # paid: no error
    assert stripe_api.invoices_attempts(invoice) == 2
    keys = [r.headers.get("Idempotency-Key") for r in stripe_api.requests_to(
        f"/v1/invoices/{invoice}/pay", method="POST"
    )]  # fmt: skip
    assert keys[:3] == [
        "dunbot-retry-in_pay-1",
        "dunbot-retry-in_pay-1",
        "dunbot-retry-in_pay-2",
    ]


async def test_mark_uncollectible_once_and_refused_for_a_paid_invoice(
    billing: StripeBilling, stripe_api: FakeStripe, invoice: str
) -> None:
    await billing.mark_invoice_uncollectible(invoice, idempotency_key="dunbot-close-in_pay")
    await billing.mark_invoice_uncollectible(invoice, idempotency_key="dunbot-close-in_pay")
    assert (await billing.retrieve_object("invoice", invoice))["status"] == "uncollectible"

    stripe_api.add_invoice(id="in_paid", customer="cus_pay", status="paid")
    with pytest.raises(BillingError, match="mark uncollectible"):
        await billing.mark_invoice_uncollectible("in_paid", idempotency_key="dunbot-close-x")


async def test_cancel_a_subscription_now_or_at_period_end(
    billing: StripeBilling, stripe_api: FakeStripe
) -> None:
    stripe_api.add_customer(id="cus_sub")
    stripe_api.add_subscription(id="sub_now", customer="cus_sub", interval="year")
    stripe_api.add_subscription(id="sub_later", customer="cus_sub")

    await billing.cancel_subscription("sub_now", at_period_end=False, idempotency_key="k-now")
    await billing.cancel_subscription("sub_now", at_period_end=False, idempotency_key="k-now")
    await billing.cancel_subscription("sub_later", at_period_end=True, idempotency_key="k-later")

    assert stripe_api.subscription("sub_now")["status"] == "canceled"
    later = stripe_api.subscription("sub_later")
    assert later["status"] == "active" and later["cancel_at_period_end"] is True
    [first, replay] = stripe_api.requests_to("/v1/subscriptions/sub_now", method="DELETE")
    assert first.headers["Idempotency-Key"] == replay.headers["Idempotency-Key"] == "k-now"
    with pytest.raises(BillingError, match="cancel"):  # another key: already cancelled
        await billing.cancel_subscription("sub_now", at_period_end=False, idempotency_key="k-2")


async def test_sandbox_pays_and_marks_uncollectible_once_per_key() -> None:
    from bot.sandbox.billing import DEMO_INVOICES, seed_demo

    sandbox = seed_demo()
    paid, closed = DEMO_INVOICES["standard_en"], DEMO_INVOICES["standard_fr"]
    await sandbox.pay_invoice(paid, idempotency_key="k-pay")
    await sandbox.pay_invoice(paid, idempotency_key="k-pay")
    await sandbox.mark_invoice_uncollectible(closed, idempotency_key="k-close")
    await sandbox.mark_invoice_uncollectible(closed, idempotency_key="k-close")

    assert sandbox.invoice(paid)["status"] == "paid"
    assert sandbox.invoice(closed)["status"] == "uncollectible"
    assert [e["type"] for e in sandbox.written_events] == [
        "invoice.paid",
        "invoice.marked_uncollectible",
    ]
    with pytest.raises(BillingError):  # a paid invoice cannot be closed out
        await sandbox.mark_invoice_uncollectible(paid, idempotency_key="k-other")
