"""Stripe events meaning "the customer has a new way to pay": a plan retries at once.

- `customer.updated` whose `previous_attributes` show a change of
  `invoice_settings.default_payment_method` or `default_source`;
- `payment_method.attached` (a card added to a customer);
- `customer.source.created` / `customer.source.updated` (older card sources).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ATTACHED = frozenset(
    {"payment_method.attached", "customer.source.created", "customer.source.updated"}
)


def card_update_customer(event_type: str, event: Mapping[str, Any]) -> str | None:
    """The customer whose payment method this event changed, None for any other event."""
    data = event.get("data")
    if not isinstance(data, Mapping):
        return None
    obj = data.get("object")
    if not isinstance(obj, Mapping):
        return None
    if event_type == "customer.updated":
        previous = data.get("previous_attributes")
        if not isinstance(previous, Mapping):
            return None
        settings = previous.get("invoice_settings")
        changed = "default_source" in previous or (
            isinstance(settings, Mapping) and "default_payment_method" in settings
        )
        return _customer_id(obj.get("id")) if changed else None
    if event_type in ATTACHED:
        return _customer_id(obj.get("customer"))
    return None


def _customer_id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value.startswith("cus_") else None
