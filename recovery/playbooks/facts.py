"""An event's facts as conditions and templates see them: the object, what it refers to,
dunbot's customer facts and the event itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from recovery.playbooks.fields import CUSTOMER_FACTS, reference_kinds


class Missing:
    """No such value on the object (distinct from a JSON null)."""

    def __repr__(self) -> str:
        return "MISSING"


class Unread(Missing):
    """The object holding the value was not read (offline test, Stripe unreachable)."""

    def __repr__(self) -> str:
        return "UNREAD"


MISSING = Missing()
UNREAD = Unread()


class Facts:
    """Looks up a field path; MISSING when absent, UNREAD when its object was not read."""

    def lookup(self, path: str) -> Any:
        raise NotImplementedError


@dataclass
class EventFacts(Facts):
    """Facts of one event: `obj` is data.object; `related` the re-read objects by field."""

    event: Mapping[str, Any]
    kind: str
    obj: Mapping[str, Any]
    related: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    customer_facts: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: Mapping[str, Any], *, kind: str) -> EventFacts:
        """Facts from a Stripe event envelope; expanded references are used as read."""
        obj = event.get("data", {}).get("object", {})
        facts = cls(event=event, kind=kind, obj=obj)
        for name in reference_kinds(kind):
            if isinstance(obj.get(name), Mapping):
                facts.related[name] = obj[name]
        return facts

    def reference_id(self, name: str) -> str | None:
        """The id in a reference field (`customer` → 'cus_…'), whether expanded or not."""
        value = self.obj.get(name)
        if value is None and self.kind == "invoice" and name == "subscription":
            value = invoice_subscription_id(self.obj)
        if isinstance(value, Mapping):
            value = value.get("id")
        return value if isinstance(value, str) and value else None

    def lookup(self, path: str) -> Any:
        parts = path.split(".")
        head, rest = parts[0], parts[1:]
        if head == "event":
            return _walk(self.event, rest)
        if rest and head in reference_kinds(self.kind):
            if head == "customer" and len(rest) == 1 and rest[0] in CUSTOMER_FACTS:
                return self.customer_facts.get(rest[0], UNREAD)
            if self.reference_id(head) is None:
                return MISSING
            related = self.related.get(head)
            return UNREAD if related is None else _walk(related, rest)
        if not rest and head in reference_kinds(self.kind):
            return self.reference_id(head) or _walk(self.obj, parts)
        return _walk(self.obj, parts)


def invoice_subscription_id(invoice: Mapping[str, Any]) -> str | None:
    """An invoice's subscription: `parent.subscription_details.subscription` (API 2025-03-31
    and later) or the older top-level `subscription`; an id either way."""
    value: Any = invoice.get("subscription")
    if value is None:
        parent = invoice.get("parent")
        details = parent.get("subscription_details") if isinstance(parent, Mapping) else None
        value = details.get("subscription") if isinstance(details, Mapping) else None
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value.startswith("sub_") else None


def _walk(value: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(value, Mapping) and part not in value and _is_list(value):
            items = value["data"]
            value = items[0] if items else MISSING  # a list's first item (see LIST_ITEM_FIELDS)
        if not isinstance(value, Mapping) or part not in value:
            return MISSING
        value = value[part]
    return value


def _is_list(value: Mapping[str, Any]) -> bool:
    """A Stripe list object (`{"object": "list", "data": [...]}`)."""
    return value.get("object") == "list" and isinstance(value.get("data"), list)
