"""Stripe requests per failed event, counted by the fake Stripe: one expanded invoice read,
plus the LTV list for a customer not seen before; the card loses nothing by it."""

from __future__ import annotations

from tests.slack_flow.conftest import SlackHarness, add_standard, message_text


async def test_a_new_customer_costs_two_requests_and_a_returning_one_one(
    sh: SlackHarness,
) -> None:
    add_standard(sh.stripe, "in_first", customer="cus_back", email="back@example.com")
    sh.stripe.add_paid_invoices(customer="cus_back", count=1, amount=12_000)
    sh.stripe.clear_requests()
    await sh.fail("in_first")
    first = [(r.method, r.path) for r in sh.stripe.requests]
    assert first == [("GET", "/v1/invoices/in_first"), ("GET", "/v1/invoices")]  # ≤ 3 goal

    sh.stripe.add_invoice(id="in_second", customer="cus_back", amount_due=2_500, attempt_count=1)
    sh.stripe.add_failed_payment("in_second", decline_code="insufficient_funds")
    sh.stripe.clear_requests()
    await sh.fail("in_second")
    second = [(r.method, r.path) for r in sh.stripe.requests]
    assert second == [("GET", "/v1/invoices/in_second")]  # ≤ 2 goal; LTV from the cache

    expanded = sh.stripe.requests[0].query
    assert {v for k, v in expanded.items() if k.startswith("expand")} == {
        "customer",
        "payments.data.payment.payment_intent",
    }
    draft = await sh.latest_draft("in_second")
    card = message_text(await sh.card("approval", draft.id))
    assert "back@example.com" in card and "insufficient" in card.lower()
