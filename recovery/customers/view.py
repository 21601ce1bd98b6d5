"""A customer as customer rules see it: the profile's fields, for conditions and templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from recovery.customers.facts import CustomerFacts
from recovery.domain import CustomerSnapshot
from recovery.playbooks.facts import MISSING, Facts


@dataclass
class CustomerView(Facts):
    """Looks up `outstanding`, `rating`, `metadata.segment`, … on one customer."""

    values: dict[str, Any]

    def lookup(self, path: str) -> Any:
        head, _, rest = path.partition(".")
        if head == "metadata" and rest:
            return self.values.get("metadata", {}).get(rest, MISSING)
        if rest:
            return MISSING
        return self.values.get(head, MISSING)


def customer_view(
    customer: CustomerSnapshot,
    facts: CustomerFacts,
    *,
    segment: str | None,
    owners: list[str],
    dunning_plan: str | None,
    excluded: bool,
    now: datetime,
) -> CustomerView:
    email = customer.email or ""
    since = customer.created
    return CustomerView(
        values={
            "id": customer.id,
            "email": email or None,
            "email_domain": email.rpartition("@")[2].lower() if "@" in email else None,
            "name": customer.name,
            "metadata": dict(customer.metadata),
            "outstanding": dict(facts.outstanding),
            "overdue": dict(facts.overdue),
            "avg_delay_days": _number(facts.avg_delay_days),
            "failed_90d": facts.failed_90d,
            "rating": facts.rating,
            "ltv": dict(facts.ltv),
            "segment": segment or "standard",
            "customer_since": f"{since:%Y-%m-%d}" if since else None,
            "tenure_days": (now - since).days if since else None,
            "plans": list(facts.plans),
            "open_invoices": facts.open_invoices,
            "owner": ", ".join(owners) or None,
            "dunning_plan": dunning_plan,
            "excluded": excluded,
        }
    )


def _number(value: float | None) -> float | int | None:
    """30.0 → 30 (templates show it as a person writes it); 12.5 stays."""
    if value is not None and float(value).is_integer():
        return int(value)
    return value
