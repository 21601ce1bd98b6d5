"""VIP by plan (VIP_PLANS) and by tenure (VIP_TENURE_MONTHS + VIP_TENURE_MIN_INVOICE), with the
reasons in words, from Stripe's own invoice lines and customer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.adapters.stripe_billing import StripeBilling
from bot.settings import Settings
from bot.wiring import recovery_config
from recovery.domain import CustomerSnapshot, InvoiceSnapshot, Segment
from recovery.segmentation import VipThresholds, decide_segment, whole_months_between
from tests.fakes.stripe_server import FakeStripe

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
TWO_YEARS_AGO = datetime(2024, 11, 1, tzinfo=UTC)
PLANS = VipThresholds(plans=frozenset({"price_enterprise", "prod_platinum", "enterprise_yearly"}))
TENURE = VipThresholds(invoice_amount=10**9, tenure_months=24, tenure_min_invoice=50_000)


def _invoice(amount_due: int = 4900, plan_keys: list[str] | None = None) -> InvoiceSnapshot:
    return InvoiceSnapshot(
        id="in_1", customer_id="cus_1", status="open", currency="usd",
        amount_due=amount_due, amount_remaining=amount_due, plan_keys=plan_keys or [],
    )  # fmt: skip


def _decide(
    thresholds: VipThresholds, invoice: InvoiceSnapshot, created: datetime | None = None
) -> tuple[Segment, list[str]]:
    decision = decide_segment(
        ltv_by_currency={},
        invoice=invoice,
        customer=CustomerSnapshot(id="cus_1", created=created),
        thresholds=thresholds,
        now=NOW,
    )
    return decision.segment, decision.reasons


@pytest.mark.parametrize("key", ["price_enterprise", "prod_platinum", "enterprise_yearly"])
def test_vip_by_plan_price_product_or_lookup_key(key: str) -> None:
    segment, reasons = _decide(PLANS, _invoice(plan_keys=["price_basic", key]))
    assert segment is Segment.VIP
    assert reasons == [f"invoice is for VIP plan {key}"]


def test_other_plan_is_standard_and_says_so() -> None:
    segment, reasons = _decide(PLANS, _invoice(plan_keys=["price_basic", "prod_basic"]))
    assert segment is Segment.STANDARD
    assert reasons[-1] == "invoice is on no VIP plan"


def test_vip_by_tenure_and_invoice_amount() -> None:
    segment, reasons = _decide(TENURE, _invoice(60_000), created=TWO_YEARS_AGO)
    assert segment is Segment.VIP
    assert reasons == ["customer for 25 months ≥ 24 months and invoice amount $600.00 ≥ $500.00"]


@pytest.mark.parametrize(
    ("amount", "created", "reason"),
    [
        (40_000, TWO_YEARS_AGO, "customer for 25 months ≥ 24 months but invoice amount "
         "$400.00 < $500.00"),
        (60_000, datetime(2025, 1, 3, tzinfo=UTC), "customer for 22 months < 24 months"),
        (60_000, None, "customer since: unknown"),
    ],
)  # fmt: skip
def test_tenure_falls_short_with_a_reason(
    amount: int, created: datetime | None, reason: str
) -> None:
    segment, reasons = _decide(TENURE, _invoice(amount), created=created)
    assert segment is Segment.STANDARD
    assert reasons[-1] == reason


def test_unconfigured_rules_add_no_reasons() -> None:
    _, reasons = _decide(VipThresholds(), _invoice(plan_keys=["price_enterprise"]), TWO_YEARS_AGO)
    assert not any("plan" in r or "customer for" in r for r in reasons)


def test_whole_months() -> None:
    assert whole_months_between(datetime(2026, 1, 31), datetime(2026, 2, 28)) == 0
    assert whole_months_between(datetime(2024, 12, 2), datetime(2026, 12, 2)) == 24
    assert whole_months_between(datetime(2024, 12, 3), datetime(2026, 12, 2)) == 23


def test_settings_name_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIP_PLANS", "price_enterprise, enterprise_yearly ,")
    monkeypatch.setenv("VIP_TENURE_MONTHS", "24")
    monkeypatch.setenv("VIP_TENURE_MIN_INVOICE", "50000")
    thresholds = recovery_config(Settings()).vip_thresholds
    assert thresholds.plans == {"price_enterprise", "enterprise_yearly"}
    assert (thresholds.tenure_months, thresholds.tenure_min_invoice) == (24, 50_000)


async def test_plan_and_tenure_read_from_stripe(
    stripe_api: FakeStripe, billing: StripeBilling
) -> None:
    cus = stripe_api.add_customer(email="old@example.com", created=int(TWO_YEARS_AGO.timestamp()))
    invoice = stripe_api.add_invoice(customer=cus["id"], amount_due=60_000)
    line = invoice["lines"]["data"][0]
    line["pricing"] = {
        "type": "price_details",
        "price_details": {"price": "price_enterprise", "product": "prod_gold"},
        "unit_amount_decimal": "60000",
    }
    old_price = {"id": "price_old", "product": "prod_old", "lookup_key": "enterprise_yearly"}
    legacy = {**line, "id": "il_legacy", "pricing": None, "price": old_price}
    stripe_api.update_invoice(invoice["id"], lines={**invoice["lines"], "data": [line, legacy]})

    snapshot = await billing.get_invoice(invoice["id"])
    customer = await billing.get_customer(cus["id"])
    assert snapshot.plan_keys == [
        "price_enterprise", "prod_gold", "price_old", "prod_old", "enterprise_yearly",
    ]  # fmt: skip
    assert customer.created == TWO_YEARS_AGO
    both = TENURE.model_copy(update={"plans": frozenset({"enterprise_yearly"})})
    decision = decide_segment(
        ltv_by_currency={}, invoice=snapshot, customer=customer, thresholds=both, now=NOW
    )
    assert decision.segment is Segment.VIP
    assert decision.reasons == [
        "invoice is for VIP plan enterprise_yearly",
        "customer for 25 months ≥ 24 months and invoice amount $600.00 ≥ $500.00",
    ]
