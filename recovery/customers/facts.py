"""Customer facts computed from an invoice history: pure functions, no I/O.

outstanding    sum of `amount_remaining` of open invoices, per currency
overdue        the part of it whose due date has passed, per currency
avg_delay_days mean of (paid − due) in days over invoices with a due date paid in the last
               12 months (early payments count as 0)
failed_90d     failed payment attempts on invoices created in the last 90 days
               (attempt_count, minus the attempt that succeeded on a paid invoice)
rating         A–D from the delay and the failed payments (see `RatingConfig`)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

GRADES = ("A", "B", "C", "D")  # best first
YEAR = timedelta(days=365)
NINETY_DAYS = timedelta(days=90)


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceRecord:
    """The parts of one Stripe invoice the facts need."""

    id: str
    status: str
    currency: str
    amount_due: int
    amount_paid: int = 0
    amount_remaining: int = 0
    created: datetime | None = None
    due_date: datetime | None = None
    paid_at: datetime | None = None
    attempt_count: int = 0
    plan_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RatingConfig:
    """Upper bounds for grades A, B, C (anything above the C bound is D).

    The rating is the worse of the delay grade and the failed-payments grade.
    """

    delay_days: tuple[float, float, float] = (5, 15, 30)
    failed_payments: tuple[int, int, int] = (0, 1, 3)

    @classmethod
    def parse(cls, *, delay_days: str, failed_payments: str) -> RatingConfig:
        """From settings text like "5,15,30"; raises ValueError saying what to write."""
        delays = _three(delay_days, float, "CUSTOMER_RATING_DELAY_DAYS")
        fails = _three(failed_payments, int, "CUSTOMER_RATING_FAILED_PAYMENTS")
        return cls(
            delay_days=(delays[0], delays[1], delays[2]),
            failed_payments=(fails[0], fails[1], fails[2]),
        )


def _three(text: str, kind: type, name: str) -> list[Any]:
    try:
        values = [kind(part.strip()) for part in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 3 or values != sorted(values) or values[0] < 0:
        raise ValueError(f'{name}="{text}": write three rising bounds for A, B, C, e.g. "5,15,30"')
    return values


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerFacts:
    """What dunbot knows about a customer's payments, as of `as_of`."""

    outstanding: dict[str, int] = field(default_factory=dict)
    overdue: dict[str, int] = field(default_factory=dict)
    avg_delay_days: float | None = None
    failed_90d: int = 0
    rating: str = "A"
    ltv: dict[str, int] = field(default_factory=dict)
    plans: tuple[str, ...] = ()
    open_invoices: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (stored with the profile, compared for crossings)."""
        return {
            "outstanding": dict(self.outstanding),
            "overdue": dict(self.overdue),
            "avg_delay_days": self.avg_delay_days,
            "failed_90d": self.failed_90d,
            "rating": self.rating,
            "ltv": dict(self.ltv),
            "plans": list(self.plans),
            "open_invoices": self.open_invoices,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CustomerFacts:
        return cls(
            outstanding={k: int(v) for k, v in (data.get("outstanding") or {}).items()},
            overdue={k: int(v) for k, v in (data.get("overdue") or {}).items()},
            avg_delay_days=data.get("avg_delay_days"),
            failed_90d=int(data.get("failed_90d") or 0),
            rating=str(data.get("rating") or "A"),
            ltv={k: int(v) for k, v in (data.get("ltv") or {}).items()},
            plans=tuple(data.get("plans") or ()),
            open_invoices=int(data.get("open_invoices") or 0),
        )


def compute_facts(
    invoices: Iterable[InvoiceRecord], *, now: datetime, rating: RatingConfig | None = None
) -> CustomerFacts:
    """All facts from the customer's invoices (every status, any age)."""
    outstanding: defaultdict[str, int] = defaultdict(int)
    overdue: defaultdict[str, int] = defaultdict(int)
    ltv: defaultdict[str, int] = defaultdict(int)
    delays: list[float] = []
    failed = 0
    plans: dict[str, None] = {}
    open_count = 0
    for invoice in invoices:
        currency = invoice.currency.lower()
        if invoice.status == "open" and invoice.amount_remaining > 0:
            open_count += 1
            outstanding[currency] += invoice.amount_remaining
            if invoice.due_date is not None and invoice.due_date < now:
                overdue[currency] += invoice.amount_remaining
        if invoice.status == "paid":
            ltv[currency] += invoice.amount_paid
            if invoice.paid_at is not None and invoice.due_date is not None:
                if now - invoice.paid_at <= YEAR:
                    delays.append(
                        max(0.0, (invoice.paid_at - invoice.due_date) / timedelta(days=1))
                    )
        if invoice.created is not None and now - invoice.created <= NINETY_DAYS:
            succeeded = 1 if invoice.status == "paid" and invoice.attempt_count > 0 else 0
            failed += max(0, invoice.attempt_count - succeeded)
        if invoice.status in ("open", "paid"):
            plans.update(dict.fromkeys(invoice.plan_keys))
    avg_delay = round(sum(delays) / len(delays), 1) if delays else None
    return CustomerFacts(
        outstanding=dict(outstanding),
        overdue=dict(overdue),
        avg_delay_days=avg_delay,
        failed_90d=failed,
        rating=payment_rating(avg_delay_days=avg_delay, failed_90d=failed, config=rating),
        ltv=dict(ltv),
        plans=tuple(plans),
        open_invoices=open_count,
    )


def payment_rating(
    *, avg_delay_days: float | None, failed_90d: int, config: RatingConfig | None = None
) -> str:
    """A (pays on time, no failures) to D: the worse of the delay and the failures grades."""
    config = config or RatingConfig()
    delay_grade = _grade(avg_delay_days or 0.0, config.delay_days)
    failed_grade = _grade(failed_90d, config.failed_payments)
    return max(delay_grade, failed_grade, key=GRADES.index)


def _grade(value: float, bounds: tuple[float, float, float]) -> str:
    for grade, bound in zip(GRADES, bounds, strict=False):
        if value <= bound:
            return grade
    return GRADES[-1]


def grade_rank(grade: str) -> int:
    """Higher is better: D=0 … A=3."""
    return len(GRADES) - 1 - GRADES.index(grade)
