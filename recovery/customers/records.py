"""Stripe invoice objects (as dicts) → `InvoiceRecord`s for the facts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from recovery.customers.facts import InvoiceRecord
from recovery.snapshots import invoice_plan_keys


def _moment(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, tz=UTC)
    return None


def invoice_record(data: Mapping[str, Any]) -> InvoiceRecord:
    """The facts-relevant parts of a Stripe invoice (paid date from `status_transitions`)."""
    transitions = data.get("status_transitions") or {}
    return InvoiceRecord(
        id=str(data.get("id")),
        status=str(data.get("status")),
        currency=str(data.get("currency") or "usd").lower(),
        amount_due=int(data.get("amount_due") or 0),
        amount_paid=int(data.get("amount_paid") or 0),
        amount_remaining=int(data.get("amount_remaining") or 0),
        created=_moment(data.get("created")),
        due_date=_moment(data.get("due_date")),
        paid_at=_moment(transitions.get("paid_at")) if isinstance(transitions, Mapping) else None,
        attempt_count=int(data.get("attempt_count") or 0),
        plan_keys=tuple(invoice_plan_keys(data)),
    )
