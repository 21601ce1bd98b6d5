"""VIP or standard, with reasons a finance person reads."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.adapters.stripe_billing import StripeBilling
from recovery.domain import CustomerSnapshot, InvoiceSnapshot, Segment
from recovery.segmentation import VipThresholds, decide_segment
from tests.fakes.stripe_server import FakeStripe

THRESHOLDS = VipThresholds(
    default_ltv=500_000,
    ltv_by_currency={"EUR": 500_000, "jpy": 700_000},
    invoice_amount=50_000,
    invoice_amount_by_currency={"jpy": 80_000},
)


def _invoice(amount_due: int = 4900, currency: str = "usd") -> InvoiceSnapshot:
    return InvoiceSnapshot(
        id="in_1",
        customer_id="cus_1",
        status="open",
        currency=currency,
        amount_due=amount_due,
        amount_remaining=amount_due,
    )


def _customer(**metadata: str) -> CustomerSnapshot:
    return CustomerSnapshot(id="cus_1", metadata=metadata)


def test_standard_customer_explains_every_shortfall() -> None:
    decision = decide_segment(
        ltv_by_currency={"usd": 12_000},
        invoice=_invoice(4900),
        customer=_customer(),
        thresholds=THRESHOLDS,
    )

    assert decision.segment is Segment.STANDARD
    assert decision.reasons == [
        "lifetime value $120.00 < $5,000.00",
        "invoice amount $49.00 < $500.00",
    ]
    assert decision.ltv_by_currency == {"usd": 12_000}


def test_vip_by_lifetime_value_in_invoice_currency() -> None:
    decision = decide_segment(
        ltv_by_currency={"eur": 725_000},
        invoice=_invoice(4900, "eur"),
        customer=_customer(),
        thresholds=THRESHOLDS,
    )

    assert decision.segment is Segment.VIP
    assert decision.reasons == ["lifetime value €7,250.00 ≥ €5,000.00"]


def test_vip_by_lifetime_value_in_another_currency() -> None:
    decision = decide_segment(
        ltv_by_currency={"eur": 725_000, "usd": 12_000},
        invoice=_invoice(4900, "usd"),
        customer=_customer(),
        thresholds=THRESHOLDS,
    )

    assert decision.segment is Segment.VIP
    assert decision.reasons == ["lifetime value €7,250.00 ≥ €5,000.00"]


def test_each_currency_is_compared_with_its_own_threshold() -> None:
    # ¥600,000 reaches the default (500000) but not the JPY threshold (¥700,000).
    decision = decide_segment(
        ltv_by_currency={"jpy": 600_000, "usd": 400_000},
        invoice=_invoice(5000, "jpy"),
        customer=_customer(),
        thresholds=THRESHOLDS,
    )

    assert decision.segment is Segment.STANDARD
    assert decision.reasons == [
        "lifetime value ¥600,000 < ¥700,000",
        "lifetime value $4,000.00 < $5,000.00",
        "invoice amount ¥5,000 < ¥80,000",
    ]


def test_zero_decimal_currency_vip_reason_text() -> None:
    decision = decide_segment(
        ltv_by_currency={"jpy": 750_000},
        invoice=_invoice(90_000, "jpy"),
        customer=_customer(),
        thresholds=THRESHOLDS,
    )

    assert decision.segment is Segment.VIP
    assert decision.reasons == [
        "lifetime value ¥750,000 ≥ ¥700,000",
        "invoice amount ¥90,000 ≥ ¥80,000",
    ]


def test_vip_by_invoice_amount() -> None:
    decision = decide_segment(
        ltv_by_currency={},
        invoice=_invoice(60_000),
        customer=_customer(),
        thresholds=THRESHOLDS,
    )

    assert decision.segment is Segment.VIP
    assert decision.reasons == ["invoice amount $600.00 ≥ $500.00"]


def test_new_customer_without_paid_invoices() -> None:
    decision = decide_segment(
        ltv_by_currency={}, invoice=_invoice(), customer=_customer(), thresholds=THRESHOLDS
    )

    assert decision.segment is Segment.STANDARD
    assert decision.reasons[0] == "lifetime value $0.00 < $5,000.00 (no paid invoices)"


def test_metadata_vip_forces_vip() -> None:
    decision = decide_segment(
        ltv_by_currency={"usd": 100},
        invoice=_invoice(),
        customer=_customer(dunbot_tier="vip"),
        thresholds=THRESHOLDS,
    )

    assert decision.segment is Segment.VIP
    assert decision.reasons == ["customer metadata dunbot_tier=vip"]


def test_metadata_standard_forces_standard_and_says_so() -> None:
    decision = decide_segment(
        ltv_by_currency={"eur": 725_000},
        invoice=_invoice(60_000, "eur"),
        customer=_customer(dunbot_tier=" Standard "),
        thresholds=THRESHOLDS,
    )

    assert decision.segment is Segment.STANDARD
    assert decision.reasons == [
        "customer metadata dunbot_tier=standard forces standard",
        "lifetime value €7,250.00 ≥ €5,000.00 (overridden)",
        "invoice amount €600.00 ≥ €500.00 (overridden)",
    ]


def test_unknown_tier_value_is_ignored_and_noted() -> None:
    decision = decide_segment(
        ltv_by_currency={},
        invoice=_invoice(),
        customer=_customer(dunbot_tier="gold"),
        thresholds=THRESHOLDS,
    )

    assert decision.segment is Segment.STANDARD
    assert decision.reasons[-1] == (
        "customer metadata dunbot_tier=gold ignored (expected vip or standard)"
    )


def test_thresholds_lowercase_currencies_and_reject_negatives() -> None:
    assert THRESHOLDS.ltv_threshold("EUR") == 500_000
    assert THRESHOLDS.ltv_threshold("gbp") == 500_000
    assert THRESHOLDS.invoice_threshold("JPY") == 80_000
    with pytest.raises(ValidationError):
        VipThresholds(ltv_by_currency={"usd": -1})


@given(
    ltv=st.dictionaries(st.sampled_from(["usd", "eur", "jpy", "gbp"]), st.integers(0, 10**9)),
    amount=st.integers(0, 10**7),
    currency=st.sampled_from(["usd", "eur", "jpy", "gbp"]),
)
def test_vip_exactly_when_some_threshold_is_reached(
    ltv: dict[str, int], amount: int, currency: str
) -> None:
    decision = decide_segment(
        ltv_by_currency=ltv,
        invoice=_invoice(amount, currency),
        customer=_customer(),
        thresholds=THRESHOLDS,
    )

    expected_vip = amount >= THRESHOLDS.invoice_threshold(currency) or any(
        value >= THRESHOLDS.ltv_threshold(cur) for cur, value in ltv.items()
    )
    assert (decision.segment is Segment.VIP) == expected_vip
    assert decision.reasons and all(("≥" in r) == expected_vip for r in decision.reasons)


async def test_segment_from_stripe_data(stripe_api: FakeStripe, billing: StripeBilling) -> None:
    cus = stripe_api.add_customer(email="big@example.com")
    stripe_api.add_paid_invoices(customer=cus["id"], count=29, amount=25_000, currency="eur")
    inv = stripe_api.add_invoice(customer=cus["id"], currency="eur", amount_due=4900)

    decision = decide_segment(
        ltv_by_currency=await billing.lifetime_value(cus["id"]),
        invoice=await billing.get_invoice(inv["id"]),
        customer=await billing.get_customer(cus["id"]),
        thresholds=THRESHOLDS,
    )

    assert decision.segment is Segment.VIP
    assert decision.reasons == ["lifetime value €7,250.00 ≥ €5,000.00"]
