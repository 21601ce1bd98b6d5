"""Which event types exist, what object each carries, and which field paths a rule may name.

A path is looked up on the event's object (`amount`, `metadata.plan`), on an object it refers
to and dunbot re-reads (`customer.email`, `charge.refunded`), on dunbot's customer facts
(`customer.segment`, `customer.ltv`, `customer.open_cases`) or on the event (`event.type`).
`metadata.*` is free-form everywhere.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from recovery.playbooks.stripe_fields import STRIPE_FIELDS

OPEN = 1

# dunbot's own case events carry a case (see recovery/playbooks/case_events.py).
CASE_FIELDS: dict[str, Any] = {
    "id": 0,
    "object": 0,
    "invoice": 0,
    "invoice_number": 0,
    "customer": 0,
    "customer_email": 0,
    "customer_name": 0,
    "status": 0,
    "segment": 0,
    "currency": 0,
    "amount_due": 0,
    "amount_remaining": 0,
    "amount_recovered": 0,
    "attempt_count": 0,
    "emails_sent": 0,
    "decline_code": 0,
    "decline_category": 0,
}

# Customer rules (issue 15) see a customer's stored profile: its facts and assignments.
CUSTOMER_PROFILE_FIELDS: dict[str, Any] = {
    "id": 0,
    "email": 0,
    "email_domain": 0,
    "name": 0,
    "outstanding": 0,
    "overdue": 0,
    "avg_delay_days": 0,
    "failed_90d": 0,
    "rating": 0,
    "ltv": 0,
    "segment": 0,
    "customer_since": 0,
    "tenure_days": 0,
    "plans": 0,
    "open_invoices": 0,
    "owner": 0,
    "dunning_plan": 0,
    "excluded": 0,
}
# Profile fields holding {currency: amount}: compared as money, never across currencies.
CUSTOMER_MONEY_FIELDS = frozenset({"outstanding", "overdue", "ltv"})

OBJECT_FIELDS: dict[str, dict[str, Any]] = {
    **STRIPE_FIELDS,
    "dunbot.case": CASE_FIELDS,
    "dunbot.customer": CUSTOMER_PROFILE_FIELDS,
}

CASE_EVENT_TYPES = (
    "dunbot.case.opened",
    "dunbot.case.email_sent",
    "dunbot.case.paid",
    "dunbot.case.escalated",
)

# Customer rule triggers (recovery/customers/): a customer's facts first stored, changed, or
# crossing a threshold (the rule's `crossing`).
CUSTOMER_CREATED = "dunbot.customer.created"
CUSTOMER_CREATED_OR_UPDATED = "dunbot.customer.created_or_updated"
CUSTOMER_CROSSED = "dunbot.customer.crossed"
CUSTOMER_EVENT_TYPES = (CUSTOMER_CREATED, CUSTOMER_CREATED_OR_UPDATED, CUSTOMER_CROSSED)

_STRIPE_EVENTS: dict[str, tuple[str, ...]] = {
    "charge": (
        "captured",
        "expired",
        "failed",
        "pending",
        "refunded",
        "succeeded",
        "updated",
    ),
    "payment_intent": (
        "amount_capturable_updated",
        "canceled",
        "created",
        "partially_funded",
        "payment_failed",
        "processing",
        "requires_action",
        "succeeded",
    ),
    "radar.early_fraud_warning": ("created", "updated"),
    "invoice": (
        "created",
        "deleted",
        "finalization_failed",
        "finalized",
        "marked_uncollectible",
        "overdue",
        "paid",
        "payment_action_required",
        "payment_failed",
        "payment_succeeded",
        "sent",
        "upcoming",
        "updated",
        "voided",
        "will_be_due",
    ),
    "customer": ("created", "deleted", "updated"),
    "customer.subscription": (
        "created",
        "deleted",
        "paused",
        "pending_update_applied",
        "pending_update_expired",
        "resumed",
        "trial_will_end",
        "updated",
    ),
}
_KIND_OF_PREFIX = {"customer.subscription": "subscription"}

# Event type → kind of object in `data.object`. Extended by later capabilities.
EVENT_OBJECT_KINDS: dict[str, str] = {
    f"{prefix}.{name}": _KIND_OF_PREFIX.get(prefix, prefix)
    for prefix, names in _STRIPE_EVENTS.items()
    for name in names
} | dict.fromkeys(CASE_EVENT_TYPES, "dunbot.case")
EVENT_OBJECT_KINDS |= dict.fromkeys(CUSTOMER_EVENT_TYPES, "dunbot.customer")

# Field holding the id of another object → that object's kind (re-read when a rule needs it).
REFERENCES: dict[str, dict[str, str]] = {
    "charge": {"customer": "customer", "payment_intent": "payment_intent", "invoice": "invoice"},
    "payment_intent": {"customer": "customer", "latest_charge": "charge", "invoice": "invoice"},
    "radar.early_fraud_warning": {"charge": "charge", "payment_intent": "payment_intent"},
    "invoice": {
        "customer": "customer",
        "subscription": "subscription",
        "charge": "charge",
        "payment_intent": "payment_intent",
    },
    "subscription": {"customer": "customer", "latest_invoice": "invoice"},
    "customer": {},
    "dunbot.case": {"customer": "customer", "invoice": "invoice"},
    "dunbot.customer": {},
}

# dunbot's facts about a customer, under `customer.` (issue 15 adds more).
CUSTOMER_FACTS: dict[str, str] = {
    "segment": "text",
    "ltv": "money_by_currency",
    "open_cases": "number",
    # From the customer's stored profile (recovery/customers/): owner, rating, outstanding.
    "owner": "text",
    "rating": "text",
    "outstanding": "money_by_currency",
    "avg_delay_days": "number",
    "excluded": "bool",
}

EVENT_FIELDS = {"id": 0, "type": 0, "created": 0, "livemode": 0}

_PRICE_FIELDS: dict[str, Any] = {
    **dict.fromkeys(
        (
            "active billing_scheme created currency custom_unit_amount id livemode lookup_key "
            "nickname object product tax_behavior tiers_mode transform_quantity type "
            "unit_amount unit_amount_decimal"
        ).split(),
        0,
    ),
    "metadata": OPEN,
    "recurring": dict.fromkeys(
        ("interval", "interval_count", "meter", "trial_period_days", "usage_type"), 0
    ),
}
# A Stripe list's items, reachable without `.data`: `subscription.items.price.recurring.interval`
# is the first item's (every item of a subscription bills at the same interval).
LIST_ITEM_FIELDS: dict[tuple[str, str], dict[str, Any]] = {
    ("subscription", "items"): {
        **dict.fromkeys(
            (
                "created discounts id object quantity subscription tax_rates "
                "current_period_end current_period_start billing_thresholds"
            ).split(),
            0,
        ),
        "metadata": OPEN,
        "price": _PRICE_FIELDS,
        "plan": OPEN,
    },
}

_MONEY_NAMES = frozenset(
    {"balance", "subtotal", "total", "ending_balance", "starting_balance", "tax", "amount"}
)


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """Where a valid path points: its object kind, and how its money is denominated."""

    path: str
    kind: str  # object kind the last segment belongs to, or "event" / "facts"
    money: bool = False
    currency_path: str | None = None  # sibling path holding the currency, for a money field
    by_currency: bool = False  # a {currency: amount} fact such as customer.ltv


class FieldError(ValueError):
    """A path that does not exist on the event's object; the message suggests the right one."""


def object_kind(event_type: str) -> str | None:
    """Kind of object an event type carries, None when dunbot does not know the type."""
    return EVENT_OBJECT_KINDS.get(event_type)


def suggest(word: str, choices: list[str]) -> str:
    """' (did you mean x?)' or ''."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def unknown_event_type_message(event_type: str) -> str:
    return f'unknown event type "{event_type}"' + suggest(event_type, list(EVENT_OBJECT_KINDS))


def is_money_field(kind: str, name: str) -> bool:
    """An integer amount in minor units whose object carries a `currency`."""
    fields = OBJECT_FIELDS.get(kind, {})
    if "currency" not in fields:
        return False
    return name.startswith("amount") or name in _MONEY_NAMES


def resolve_field(path: str, kind: str) -> FieldInfo:
    """Check `path` against an object of `kind` (and what it refers to); raise FieldError."""
    parts = path.split(".")
    if any(not part for part in parts):
        raise FieldError(f'"{path}" is not a field path (parts are separated by single dots)')
    if parts[0] == "event":
        if len(parts) != 2 or parts[1] not in EVENT_FIELDS:
            raise FieldError(f'"{path}": the event has only ' + ", ".join(EVENT_FIELDS))
        return FieldInfo(path=path, kind="event")
    return _resolve_in(parts, kind, prefix="", follow_references=True)


def _resolve_in(parts: list[str], kind: str, *, prefix: str, follow_references: bool) -> FieldInfo:
    head, rest = parts[0], parts[1:]
    path = prefix + ".".join(parts)
    references = REFERENCES.get(kind, {})
    if follow_references and rest and head in references:
        target = references[head]
        if target == "customer" and len(rest) == 1 and rest[0] in CUSTOMER_FACTS:
            fact = CUSTOMER_FACTS[rest[0]]
            return FieldInfo(path=path, kind="facts", by_currency=fact == "money_by_currency")
        return _resolve_in(rest, target, prefix=f"{prefix}{head}.", follow_references=False)
    fields = OBJECT_FIELDS.get(kind, {})
    if head == "metadata":
        return FieldInfo(path=path, kind=kind)
    if head not in fields:
        raise FieldError(
            f'"{path}" is not a field of {_article(kind)}' + suggest(head, list(fields))
        )
    shape: Any = fields[head]
    for index, part in enumerate(rest):
        if shape == OPEN:
            break
        if index == 0 and (kind, head) in LIST_ITEM_FIELDS and part not in shape:
            shape = LIST_ITEM_FIELDS[(kind, head)]
        if not isinstance(shape, dict):
            walked = prefix + ".".join(parts[: index + 1])
            raise FieldError(f'"{path}": {walked} is a value, it has no field "{part}"')
        if part not in shape:
            walked = prefix + ".".join(parts[: index + 1])
            raise FieldError(
                f'"{path}": {walked} has no field "{part}"' + suggest(part, list(shape))
            )
        shape = shape[part]
    if kind == "dunbot.customer" and not rest and head in CUSTOMER_MONEY_FIELDS:
        return FieldInfo(path=path, kind=kind, by_currency=True)
    if not rest and is_money_field(kind, head):
        return FieldInfo(path=path, kind=kind, money=True, currency_path=f"{prefix}currency")
    return FieldInfo(path=path, kind=kind)


def _article(kind: str) -> str:
    label = {
        "radar.early_fraud_warning": "early fraud warning",
        "dunbot.case": "dunbot case",
        "dunbot.customer": "customer profile",
    }
    name = label.get(kind, kind.replace("_", " "))
    return ("an " if name[0] in "aeiou" else "a ") + name


def reference_kinds(kind: str) -> dict[str, str]:
    """Fields of `kind` that refer to another object, with that object's kind."""
    return dict(REFERENCES.get(kind, {}))
