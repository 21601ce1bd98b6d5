"""Stripe-shaped objects (plain dicts from the API, a webhook or the sandbox) → domain snapshots.

Pure mapping with no SDK: the Stripe adapter, the sandbox billing and webhook ingest all read
Stripe's JSON through these functions, so the demo exercises the real mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from recovery.decline import categorise_decline
from recovery.domain import CustomerSnapshot, DeclineInfo, InvoiceSnapshot


def _timestamp(value: Any) -> datetime | None:
    """Stripe's Unix seconds to an aware UTC datetime."""
    if value is None:
        return None
    return datetime.fromtimestamp(int(value), tz=UTC)


def object_id(value: Any) -> str | None:
    """The id of an expandable field, whether it came as an id or an expanded object."""
    if isinstance(value, Mapping):
        found = value.get("id")
        return str(found) if found else None
    return str(value) if value else None


def invoice_snapshot(data: Mapping[str, Any]) -> InvoiceSnapshot:
    """Map a Stripe invoice (as a dict) to an InvoiceSnapshot."""
    customer_id = object_id(data.get("customer")) or object_id(data.get("customer_account"))
    return InvoiceSnapshot(
        id=data["id"],
        number=data.get("number"),
        customer_id=customer_id or "",
        customer_email=data.get("customer_email"),
        customer_name=data.get("customer_name"),
        status=data.get("status") or "draft",
        currency=str(data["currency"]).lower(),
        amount_due=int(data.get("amount_due") or 0),
        amount_paid=int(data.get("amount_paid") or 0),
        amount_remaining=int(data.get("amount_remaining") or 0),
        attempt_count=int(data.get("attempt_count") or 0),
        next_payment_attempt=_timestamp(data.get("next_payment_attempt")),
        due_date=_timestamp(data.get("due_date")),
        hosted_invoice_url=data.get("hosted_invoice_url"),
        created=_timestamp(data.get("created")),
        plan_keys=invoice_plan_keys(data),
    )


def _price_keys(price: Any) -> list[str]:
    """A price's id, product id and lookup key, whether given as an id or an object."""
    if not isinstance(price, Mapping):
        return [str(price)] if price else []
    keys = [price.get("id"), object_id(price.get("product")), price.get("lookup_key")]
    return [str(key) for key in keys if key]


def invoice_plan_keys(data: Mapping[str, Any]) -> list[str]:
    """Every price id, product id and price lookup key on the invoice's lines (VIP_PLANS).

    Current API versions name the price and product under `pricing.price_details`; older
    ones carry the whole `price` (with its lookup key) and `plan` on each line.
    """
    keys: list[str] = []
    for line in (data.get("lines") or {}).get("data") or []:
        details = (line.get("pricing") or {}).get("price_details") or {}
        keys += _price_keys(details.get("price"))
        keys += [str(details["product"])] if details.get("product") else []
        keys += _price_keys(line.get("price")) + _price_keys(line.get("plan"))
    return list(dict.fromkeys(keys))


def customer_snapshot(data: Mapping[str, Any]) -> CustomerSnapshot:
    """Map a Stripe customer (as a dict, possibly a deleted stub) to a CustomerSnapshot."""
    if data.get("deleted"):
        return CustomerSnapshot(id=data["id"], deleted=True)
    metadata = data.get("metadata") or {}
    return CustomerSnapshot(
        id=data["id"],
        name=data.get("name"),
        email=data.get("email"),
        preferred_locales=[str(locale) for locale in data.get("preferred_locales") or []],
        metadata={str(key): str(value) for key, value in metadata.items()},
        deleted=False,
        created=_timestamp(data.get("created")),
        phone=data.get("phone") or None,
        country=((data.get("address") or {}).get("country")) or None,
    )


def decline_from_error(error: Mapping[str, Any]) -> DeclineInfo:
    """DeclineInfo from a payment intent's `last_payment_error`."""
    decline_code = error.get("decline_code")
    advice_code = error.get("advice_code")
    return DeclineInfo(
        category=categorise_decline(decline_code, error.get("code"), advice_code),
        decline_code=decline_code,
        advice_code=advice_code,
        message=error.get("message"),
    )


def decline_from_charge(charge: Mapping[str, Any]) -> DeclineInfo | None:
    """DeclineInfo from a failed charge (failure_code, outcome.reason); None if it succeeded."""
    failure_code = charge.get("failure_code")
    if not failure_code:
        return None
    outcome = charge.get("outcome") or {}
    decline_code = outcome.get("reason") if outcome.get("type") == "issuer_declined" else None
    advice_code = outcome.get("advice_code")
    return DeclineInfo(
        category=categorise_decline(decline_code, failure_code, advice_code),
        decline_code=decline_code,
        advice_code=advice_code,
        message=charge.get("failure_message"),
    )
