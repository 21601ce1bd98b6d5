"""Stripe requests per failed event, counted by the fake Stripe: one expanded invoice read,
plus the LTV list for a customer not seen before; the card loses nothing by it.

Counted for the event's processing job; the customer-facts refresh that every invoice event
also queues (issue 15) is a job of its own with its own reads, run after the count."""

from __future__ import annotations

from recovery.jobkinds import JobKind
from storage.worker import Worker
from tests.fakes.stripe_events import build_event, store_events
from tests.slack_flow.conftest import SlackHarness, add_standard, message_text


async def _requests_processing_failure(sh: SlackHarness, invoice_id: str) -> list[tuple[str, str]]:
    """The Stripe requests of one failed event's processing job; then the rest of the work."""
    sh.stripe.clear_requests()
    event = build_event("invoice.payment_failed", sh.stripe.update_invoice(invoice_id))
    await store_events(sh.runtime.db, event)
    process = sh.worker.handlers[JobKind.PROCESS_STRIPE_EVENT]
    await Worker(sh.runtime.db, {JobKind.PROCESS_STRIPE_EVENT: process}).run_until_idle()
    requests = [(r.method, r.path) for r in sh.stripe.requests]
    await sh.worker.run_until_idle()
    return requests


async def test_a_new_customer_costs_two_requests_and_a_returning_one_one(
    sh: SlackHarness,
) -> None:
    add_standard(sh.stripe, "in_first", customer="cus_back", email="back@example.com")
    sh.stripe.add_paid_invoices(customer="cus_back", count=1, amount=12_000)
    first = await _requests_processing_failure(sh, "in_first")
    assert first == [("GET", "/v1/invoices/in_first"), ("GET", "/v1/invoices")]  # ≤ 3 goal

    sh.stripe.add_invoice(id="in_second", customer="cus_back", amount_due=2_500, attempt_count=1)
    sh.stripe.add_failed_payment("in_second", decline_code="insufficient_funds")
    second = await _requests_processing_failure(sh, "in_second")
    assert second == [("GET", "/v1/invoices/in_second")]  # ≤ 2 goal; LTV from the cache

    expanded = next(r for r in sh.stripe.requests if r.path == "/v1/invoices/in_second").query
    assert {v for k, v in expanded.items() if k.startswith("expand")} == {
        "customer",
        "payments.data.payment.payment_intent",
    }
    draft = await sh.latest_draft("in_second")
    card = message_text(await sh.card("approval", draft.id))
    assert "back@example.com" in card and "insufficient" in card.lower()
