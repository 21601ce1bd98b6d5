"""VIP or standard: lifetime value, invoice size and metadata overrides, with reasons in words.

Rules (docs/architecture.md, "Behaviour operators and scripts rely on"), in order:

1. Customer metadata `dunbot_tier=standard` forces standard; `dunbot_tier=vip` forces VIP.
2. VIP when the lifetime value in ANY currency the customer has paid in reaches that currency's
   threshold. We deliberately do not look only at the failed invoice's currency: a customer who
   paid €7,250 over the years is valuable even when today's failed invoice is in dollars, and
   comparing each currency with its own threshold needs no exchange rates.
3. VIP when the invoice's `amount_due` reaches the invoice threshold (of its currency).
4. VIP when a line of the invoice is on a VIP plan (`VIP_PLANS`: price ids, product ids or
   price lookup keys).
5. VIP when the customer is older than `VIP_TENURE_MONTHS` whole months and the invoice is at
   least `VIP_TENURE_MIN_INVOICE` (minor units of the invoice's currency).
6. Otherwise standard, and the reasons say why each test fell short.

Thresholds are in minor units. Currencies without their own threshold use the default, which
is minor units of the account's default currency: set zero-decimal currencies (JPY, KRW…)
explicitly, as 500000 means ¥500,000 there, not ¥5,000.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from recovery.domain import CustomerSnapshot, InvoiceSnapshot, Segment, SegmentDecision
from recovery.money import format_amount

TIER_METADATA_KEY = "dunbot_tier"
_REASON_LOCALE = "en"


class VipThresholds(BaseModel):
    """VIP thresholds in minor units; per-currency entries override the defaults."""

    model_config = ConfigDict(frozen=True)

    default_ltv: int = Field(default=500_000, ge=0)
    ltv_by_currency: dict[str, int] = Field(default_factory=dict)
    invoice_amount: int = Field(default=50_000, ge=0)
    invoice_amount_by_currency: dict[str, int] = Field(default_factory=dict)
    plans: frozenset[str] = frozenset()
    tenure_months: int | None = Field(default=None, ge=1)
    tenure_min_invoice: int = Field(default=0, ge=0)

    @field_validator("ltv_by_currency", "invoice_amount_by_currency")
    @classmethod
    def _lowercase_currencies(cls, value: dict[str, int]) -> dict[str, int]:
        """Stripe's currency codes are lowercase; accept 'EUR' from config too."""
        if any(amount < 0 for amount in value.values()):
            raise ValueError("thresholds must not be negative")
        return {currency.lower(): amount for currency, amount in value.items()}

    def ltv_threshold(self, currency: str) -> int:
        """Lifetime value threshold for a currency."""
        return self.ltv_by_currency.get(currency.lower(), self.default_ltv)

    def invoice_threshold(self, currency: str) -> int:
        """Single-invoice threshold for a currency."""
        return self.invoice_amount_by_currency.get(currency.lower(), self.invoice_amount)


def _money(amount: int, currency: str) -> str:
    return format_amount(amount, currency, _REASON_LOCALE)


def _comparison(label: str, amount: int, threshold: int, currency: str) -> tuple[bool, str]:
    """(reached?, 'label $600.00 ≥ $500.00')."""
    reached = amount >= threshold
    sign = "≥" if reached else "<"
    return reached, f"{label} {_money(amount, currency)} {sign} {_money(threshold, currency)}"


def whole_months_between(start: datetime, end: datetime) -> int:
    """Completed calendar months from `start` to `end` (Jan 31 → Feb 28 is 0 months)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if (end.day, end.time()) < (start.day, start.time()):
        months -= 1
    return max(months, 0)


def _plan_fact(invoice: InvoiceSnapshot, plans: frozenset[str]) -> tuple[bool, str] | None:
    """(on a VIP plan?, words), or None when no VIP plans are configured."""
    if not plans:
        return None
    matched = [key for key in invoice.plan_keys if key in plans]
    if matched:
        return True, f"invoice is for VIP plan {', '.join(matched)}"
    return False, "invoice is on no VIP plan"


def _tenure_fact(
    invoice: InvoiceSnapshot, customer: CustomerSnapshot, thresholds: VipThresholds, now: datetime
) -> tuple[bool, str] | None:
    """(long-standing customer with a large enough invoice?, words), None when not configured."""
    months = thresholds.tenure_months
    if months is None:
        return None
    if customer.created is None:
        return False, "customer since: unknown"
    tenure = whole_months_between(customer.created, now)
    old_enough = tenure >= months
    _, amount_text = _comparison(
        "invoice amount", invoice.amount_due, thresholds.tenure_min_invoice, invoice.currency
    )
    large_enough = invoice.amount_due >= thresholds.tenure_min_invoice
    sign = "≥" if old_enough else "<"
    text = f"customer for {tenure} months {sign} {months} months"
    if old_enough:
        joiner = "and" if large_enough else "but"
        text += f" {joiner} {amount_text}"
    return old_enough and large_enough, text


def decide_segment(
    *,
    ltv_by_currency: dict[str, int],
    invoice: InvoiceSnapshot,
    customer: CustomerSnapshot,
    thresholds: VipThresholds,
    now: datetime | None = None,
) -> SegmentDecision:
    """Decide VIP or standard for a failed invoice; every decision carries its reasons."""
    ltv = {currency.lower(): amount for currency, amount in ltv_by_currency.items()}
    invoice_currency = invoice.currency.lower()
    # The invoice's currency first, then the others alphabetically.
    currencies = [invoice_currency] + sorted(set(ltv) - {invoice_currency})

    facts: list[tuple[bool, str]] = []
    for currency in currencies:
        reached, text = _comparison(
            "lifetime value", ltv.get(currency, 0), thresholds.ltv_threshold(currency), currency
        )
        if not ltv:
            text += " (no paid invoices)"
        facts.append((reached, text))
    facts.append(
        _comparison(
            "invoice amount",
            invoice.amount_due,
            thresholds.invoice_threshold(invoice_currency),
            invoice_currency,
        )
    )
    for fact in (
        _plan_fact(invoice, thresholds.plans),
        _tenure_fact(invoice, customer, thresholds, now or datetime.now(UTC)),
    ):
        if fact is not None:
            facts.append(fact)
    qualifying = [text for reached, text in facts if reached]

    raw_tier = customer.metadata.get(TIER_METADATA_KEY)
    tier = (raw_tier or "").strip().lower()
    notes: list[str] = []
    if raw_tier is not None and tier not in {Segment.VIP, Segment.STANDARD}:
        notes.append(
            f"customer metadata {TIER_METADATA_KEY}={raw_tier} ignored (expected vip or standard)"
        )

    if tier == Segment.STANDARD:
        reasons = [f"customer metadata {TIER_METADATA_KEY}=standard forces standard"]
        reasons += [f"{text} (overridden)" if reached else text for reached, text in facts]
        return SegmentDecision(segment=Segment.STANDARD, reasons=reasons, ltv_by_currency=ltv)
    if tier == Segment.VIP:
        reasons = [f"customer metadata {TIER_METADATA_KEY}=vip", *qualifying]
        return SegmentDecision(segment=Segment.VIP, reasons=reasons, ltv_by_currency=ltv)
    if qualifying:
        return SegmentDecision(
            segment=Segment.VIP, reasons=[*qualifying, *notes], ltv_by_currency=ltv
        )
    reasons = [text for _, text in facts] + notes
    return SegmentDecision(segment=Segment.STANDARD, reasons=reasons, ltv_by_currency=ltv)
