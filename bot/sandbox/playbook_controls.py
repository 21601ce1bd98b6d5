"""Sandbox controls that fire the playbooks' events (a large payment, early fraud warnings)
and the list of what the playbooks wrote to the sandbox billing."""

from __future__ import annotations

from html import escape
from typing import Any

from recovery.money import format_amount

# action → (kind, amount in cents): the ready playbooks' thresholds are 1,000 / 2,000 / 15 USD.
PLAYBOOK_EVENTS = {
    "large_payment": ("payment", 250_000),
    "fraud_small": ("fraud", 1_200),
    "fraud_large": ("fraud", 4_000),
}


def fire_playbook_event(billing: Any, action: str, customer_id: str) -> dict[str, Any]:
    """The Stripe event a sandbox button stands for."""
    kind, amount = PLAYBOOK_EVENTS[action]
    if kind == "payment":
        return billing.large_payment(customer_id, amount=amount)
    return billing.fraud_warning(customer_id, amount=amount)


def playbook_writes_html(billing: Any) -> str:
    """What the playbooks changed in the sandbox billing (metadata, refunds), newest first."""
    writes = list(getattr(billing, "playbook_writes", []))
    if not writes:
        return ""
    items = []
    for write in reversed(writes[-20:]):
        if write["kind"] == "refund":
            amount = format_amount(write["amount"], write["currency"])
            text = f"Refund of {amount} on {write['charge']}"
        else:
            pairs = ", ".join(f"{k}={v}" for k, v in write["metadata"].items())
            text = f"Metadata {pairs} on {write['customer']}"
        items.append(f"<li>{escape(text)}</li>")
    return (
        '<section class="playbook-writes" aria-label="Playbook changes in billing">'
        "<h3>Playbook changes</h3><ul>" + "".join(items) + "</ul></section>"
    )
