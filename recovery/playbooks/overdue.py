"""Overdue invoices: what counts as overdue, the sweep's synthetic events and its keys.

Stripe sends `invoice.overdue` only to accounts that turned it on; the daily sweep lists open
invoices past their due date and evaluates each as if that event had arrived. Rules on
`invoice.overdue` fire once per (rule, invoice) — the rule is the threshold — whichever of
the event, the sweep or a replay comes first (`firing_key`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

OVERDUE_EVENT = "invoice.overdue"
ONCE_PER_SUBJECT_EVENTS = frozenset({OVERDUE_EVENT})


def firing_key(event: Mapping[str, Any]) -> str:
    """What makes a firing unique with the rule: the event id, or `overdue:<invoice>`."""
    event_type = str(event.get("type"))
    if event_type in ONCE_PER_SUBJECT_EVENTS:
        obj = event.get("data", {}).get("object", {})
        subject = obj.get("id") if isinstance(obj, Mapping) else None
        if isinstance(subject, str) and subject:
            return f"overdue:{subject}"
    return str(event.get("id"))


def due_at(invoice: Mapping[str, Any]) -> datetime | None:
    """The invoice's due date as a UTC datetime (None when it has none)."""
    due = invoice.get("due_date")
    if not isinstance(due, int | float) or isinstance(due, bool):
        return None
    return datetime.fromtimestamp(int(due), tz=UTC)


def days_overdue(invoice: Mapping[str, Any], *, now: datetime) -> int | None:
    """Whole days past the due date (0 on the day after it is due), None when not overdue."""
    due = due_at(invoice)
    if due is None:
        return None
    moment = now if now.tzinfo else now.replace(tzinfo=UTC)
    if moment <= due:
        return None
    return (moment - due).days


def is_overdue(invoice: Mapping[str, Any], *, now: datetime) -> bool:
    """Open, something still to pay, and past its due date."""
    remaining = invoice.get("amount_remaining")
    return (
        invoice.get("status") == "open"
        and (not isinstance(remaining, int) or remaining > 0)
        and days_overdue(invoice, now=now) is not None
    )


def sweep_event(invoice: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    """The `invoice.overdue` event the sweep evaluates for one invoice (never stored)."""
    return {
        "id": f"evt_dunbot_sweep_{invoice.get('id')}",
        "object": "event",
        "type": OVERDUE_EVENT,
        "created": int(now.timestamp()),
        "livemode": bool(invoice.get("livemode", False)),
        "data": {"object": dict(invoice)},
        "dunbot_source": "overdue_sweep",
    }


def sweep_day(now: datetime) -> date:
    return now.astimezone(UTC).date() if now.tzinfo else now.date()


def sweep_dedupe_key(day: date) -> str:
    """One sweep job per UTC day, however many workers or restarts enqueue it."""
    return f"overdue_sweep:{day.isoformat()}"


def digest_dedupe_key(day: date) -> str:
    return f"overdue_digest:{day.isoformat()}"


def next_sweep_at(day: date) -> datetime:
    """The next day's sweep runs just after midnight UTC."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class OverdueLine:
    """One still-overdue invoice in the daily digest."""

    invoice_id: str
    number: str | None
    customer_id: str | None
    amount_remaining: int
    currency: str
    days: int

    def as_payload(self) -> dict[str, Any]:
        return {
            "invoice_id": self.invoice_id,
            "number": self.number,
            "customer_id": self.customer_id,
            "amount_remaining": self.amount_remaining,
            "currency": self.currency,
            "days": self.days,
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> OverdueLine:
        return cls(
            invoice_id=str(data["invoice_id"]),
            number=data.get("number"),
            customer_id=data.get("customer_id"),
            amount_remaining=int(data.get("amount_remaining") or 0),
            currency=str(data.get("currency") or "usd"),
            days=int(data.get("days") or 0),
        )

    @classmethod
    def from_invoice(cls, invoice: Mapping[str, Any], *, now: datetime) -> OverdueLine:
        customer = invoice.get("customer")
        if isinstance(customer, Mapping):
            customer = customer.get("id")
        return cls(
            invoice_id=str(invoice.get("id")),
            number=invoice.get("number") if isinstance(invoice.get("number"), str) else None,
            customer_id=customer if isinstance(customer, str) else None,
            amount_remaining=int(invoice.get("amount_remaining") or 0),
            currency=str(invoice.get("currency") or "usd"),
            days=days_overdue(invoice, now=now) or 0,
        )
