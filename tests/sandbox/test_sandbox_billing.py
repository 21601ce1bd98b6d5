"""SandboxBilling: the Billing protocol in memory, Stripe-shaped events, and the demo seed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.sandbox.billing import DEMO_INVOICES, SandboxBilling, SandboxError, seed_demo
from recovery.domain import DeclineCategory, Segment
from recovery.protocols import Billing, NotFoundError
from recovery.segmentation import VipThresholds, decide_segment
from recovery.snapshots import invoice_snapshot

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def _clock() -> datetime:
    return NOW


@pytest.fixture
def sandbox() -> SandboxBilling:
    return SandboxBilling(now=_clock)


def _open_invoice(sandbox: SandboxBilling, amount: int = 4900, currency: str = "usd") -> str:
    customer = sandbox.add_customer(name="Ana Lima", email="ana@example.com")
    return sandbox.add_invoice(customer=customer["id"], amount_due=amount, currency=currency)["id"]


def test_is_a_billing() -> None:
    billing: Billing = SandboxBilling()
    assert billing is not None


async def test_get_invoice_maps_the_stripe_dict(sandbox: SandboxBilling) -> None:
    customer = sandbox.add_customer(name="Ana Lima", email="ana@example.com")
    raw = sandbox.add_invoice(
        customer=customer["id"], amount_due=4900, currency="EUR", due_date=NOW + timedelta(days=7)
    )

    snapshot = await sandbox.get_invoice(raw["id"])

    assert snapshot == invoice_snapshot(raw)
    assert raw["object"] == "invoice"
    assert snapshot.customer_id == customer["id"]
    assert (snapshot.customer_email, snapshot.customer_name) == ("ana@example.com", "Ana Lima")
    assert (snapshot.status, snapshot.currency) == ("open", "eur")
    assert (snapshot.amount_due, snapshot.amount_paid, snapshot.amount_remaining) == (4900, 0, 4900)
    assert snapshot.attempt_count == 0 and snapshot.next_payment_attempt is None
    assert snapshot.created == NOW
    assert snapshot.due_date == NOW + timedelta(days=7)
    assert snapshot.hosted_invoice_url == f"https://invoice.stripe.com/i/sandbox/{raw['id']}"
    assert snapshot.number and snapshot.number.endswith("-0001")
    assert snapshot.is_collectible


async def test_unknown_objects_raise_not_found(sandbox: SandboxBilling) -> None:
    with pytest.raises(NotFoundError):
        await sandbox.get_invoice("in_missing")
    with pytest.raises(NotFoundError):
        await sandbox.get_customer("cus_missing")
    with pytest.raises(NotFoundError):
        sandbox.fail_payment("in_missing")


async def test_fail_payment_counts_attempts_and_schedules_retries(
    sandbox: SandboxBilling,
) -> None:
    invoice_id = _open_invoice(sandbox)

    event = sandbox.fail_payment(invoice_id, decline_code="expired_card", code="expired_card")

    assert event["object"] == "event"
    assert event["type"] == "invoice.payment_failed"
    assert event["id"].startswith("evt_")
    assert event["created"] == int(NOW.timestamp())
    assert event["data"]["object"]["id"] == invoice_id
    assert event["data"]["object"]["object"] == "invoice"
    assert event["data"]["object"]["attempt_count"] == 1
    snapshot = await sandbox.get_invoice(invoice_id)
    assert snapshot.attempt_count == 1
    assert snapshot.next_payment_attempt == NOW + timedelta(days=3)
    assert snapshot.is_collectible

    sandbox.fail_payment(invoice_id)
    sandbox.fail_payment(invoice_id)
    assert (await sandbox.get_invoice(invoice_id)).next_payment_attempt == NOW + timedelta(days=7)
    final = sandbox.fail_payment(invoice_id)

    assert final["data"]["object"]["attempt_count"] == 4
    assert final["data"]["object"]["next_payment_attempt"] is None
    assert final["id"] != event["id"]


async def test_fail_payment_final_on_request(sandbox: SandboxBilling) -> None:
    invoice_id = _open_invoice(sandbox)

    event = sandbox.fail_payment(invoice_id, final=True)

    assert event["data"]["object"]["next_payment_attempt"] is None
    assert (await sandbox.get_invoice(invoice_id)).attempt_count == 1


async def test_decline_info_reports_the_recorded_decline(sandbox: SandboxBilling) -> None:
    invoice_id = _open_invoice(sandbox)
    snapshot = await sandbox.get_invoice(invoice_id)
    assert (await sandbox.decline_info(snapshot)).category is DeclineCategory.UNKNOWN

    sandbox.fail_payment(invoice_id, decline_code="insufficient_funds")
    info = await sandbox.decline_info(snapshot)

    assert info.category is DeclineCategory.INSUFFICIENT_FUNDS
    assert info.decline_code == "insufficient_funds"
    assert info.message == "Your card has insufficient funds."

    sandbox.fail_payment(invoice_id, decline_code="do_not_honor", advice_code="confirm_card_data")
    info = await sandbox.decline_info(snapshot)
    assert info.category is DeclineCategory.INCORRECT_DETAILS
    assert info.advice_code == "confirm_card_data"


async def test_pay_settles_the_invoice(sandbox: SandboxBilling) -> None:
    invoice_id = _open_invoice(sandbox, amount=4900)
    sandbox.fail_payment(invoice_id)

    event = sandbox.pay(invoice_id)

    assert event["type"] == "invoice.paid"
    paid = event["data"]["object"]
    assert (paid["status"], paid["amount_paid"], paid["amount_remaining"]) == ("paid", 4900, 0)
    assert paid["next_payment_attempt"] is None
    snapshot = await sandbox.get_invoice(invoice_id)
    assert not snapshot.is_collectible
    with pytest.raises(SandboxError):
        sandbox.pay(invoice_id)
    with pytest.raises(SandboxError):
        sandbox.fail_payment(invoice_id)


async def test_void_and_uncollectible_events(sandbox: SandboxBilling) -> None:
    voided = _open_invoice(sandbox)
    given_up = _open_invoice(sandbox)

    assert sandbox.void(voided)["type"] == "invoice.voided"
    assert sandbox.mark_uncollectible(given_up)["type"] == "invoice.marked_uncollectible"

    assert (await sandbox.get_invoice(voided)).amount_remaining == 0
    assert (await sandbox.get_invoice(given_up)).status == "uncollectible"


async def test_events_carry_copies_not_live_state(sandbox: SandboxBilling) -> None:
    invoice_id = _open_invoice(sandbox)
    event = sandbox.fail_payment(invoice_id)

    event["data"]["object"]["status"] = "paid"
    sandbox.pay(invoice_id)

    assert event["data"]["object"]["amount_paid"] == 0
    assert (await sandbox.get_invoice(invoice_id)).amount_paid == 4900


async def test_lifetime_value_sums_paid_invoices_per_currency(sandbox: SandboxBilling) -> None:
    customer = sandbox.add_customer(name="Ana Lima", email="ana@example.com")
    other = sandbox.add_customer(name="Bo Li", email="bo@example.com")
    sandbox.add_paid_invoices(customer=customer["id"], count=3, amount=1000, currency="usd")
    sandbox.add_paid_invoices(customer=customer["id"], count=2, amount=500, currency="eur")
    sandbox.add_invoice(customer=customer["id"], amount_due=9999, currency="usd")
    sandbox.add_invoice(customer=customer["id"], amount_due=7777, currency="usd", status="void")
    sandbox.add_paid_invoices(customer=other["id"], count=1, amount=123, currency="usd")
    settled = sandbox.add_invoice(customer=customer["id"], amount_due=250, currency="usd")
    sandbox.pay(settled["id"])

    assert await sandbox.lifetime_value(customer["id"]) == {"usd": 3250, "eur": 1000}
    assert await sandbox.lifetime_value("cus_nobody") == {}


async def test_find_customer_by_email(sandbox: SandboxBilling) -> None:
    sandbox.add_customer(name="Old", email="ana@example.com", created=NOW - timedelta(days=9))
    newest = sandbox.add_customer(name="New", email="ana@example.com")
    gone = sandbox.add_customer(name="Gone", email="gone@example.com")
    sandbox.delete_customer(gone["id"])

    found = await sandbox.find_customer_by_email("  Ana@Example.com ")

    assert found is not None and found.id == newest["id"]
    assert await sandbox.find_customer_by_email("gone@example.com") is None
    assert await sandbox.find_customer_by_email("nobody@example.com") is None
    assert await sandbox.find_customer_by_email("") is None


async def test_customer_snapshot_and_deleted_stub(sandbox: SandboxBilling) -> None:
    raw = sandbox.add_customer(
        name="Camille Dubois",
        email="camille@example.com",
        preferred_locales=["fr-FR"],
        metadata={"dunbot_tier": "vip"},
    )

    customer = await sandbox.get_customer(raw["id"])
    assert customer.preferred_locales == ["fr-FR"]
    assert customer.metadata == {"dunbot_tier": "vip"}

    sandbox.delete_customer(raw["id"])
    deleted = await sandbox.get_customer(raw["id"])
    assert deleted.deleted and deleted.email is None


async def test_seed_demo_has_each_part_ready_to_fail() -> None:
    sandbox = seed_demo(now=_clock)
    thresholds = VipThresholds()
    segments: dict[str, Segment] = {}
    locales: dict[str, list[str]] = {}

    for role, invoice_id in DEMO_INVOICES.items():
        invoice = await sandbox.get_invoice(invoice_id)
        assert invoice.is_collectible and invoice.attempt_count == 0, role
        assert invoice.hosted_invoice_url == f"https://invoice.stripe.com/i/sandbox/{invoice_id}"
        assert invoice.customer_email and invoice.customer_email.endswith("example.com")
        customer = await sandbox.get_customer(invoice.customer_id)
        decision = decide_segment(
            ltv_by_currency=await sandbox.lifetime_value(customer.id),
            invoice=invoice,
            customer=customer,
            thresholds=thresholds,
        )
        segments[role] = decision.segment
        locales[role] = customer.preferred_locales

    assert segments == {
        "vip_ltv": Segment.VIP,
        "vip_amount": Segment.VIP,
        "standard_en": Segment.STANDARD,
        "standard_fr": Segment.STANDARD,
        "standard_de": Segment.STANDARD,
        "standard_jpy": Segment.STANDARD,
    }
    assert locales["standard_fr"] == ["fr-FR"] and locales["standard_de"] == ["de-DE"]
    currencies = {
        role: (await sandbox.get_invoice(invoice_id)).currency
        for role, invoice_id in DEMO_INVOICES.items()
    }
    assert currencies["standard_en"] == "usd"
    assert currencies["standard_fr"] == currencies["standard_de"] == "eur"
    assert currencies["standard_jpy"] == "jpy"
    assert len(sandbox.invoices(status="open")) == len(DEMO_INVOICES)


async def test_seeded_invoice_fails_and_is_paid_like_any_other() -> None:
    sandbox = seed_demo(now=_clock)
    invoice_id = DEMO_INVOICES["standard_en"]

    failed = sandbox.fail_payment(invoice_id)
    paid = sandbox.pay(invoice_id)

    assert failed["data"]["object"]["amount_remaining"] == 4900
    assert paid["data"]["object"]["amount_paid"] == 4900
