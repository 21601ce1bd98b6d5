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


def playbook_bar_html(billing: Any, *, invoice_id: str | None) -> str:
    """One line under the billing table: buttons that fire the playbooks' events for the first
    customer, and the latest change the playbooks made in the sandbox billing."""
    if invoice_id is None:
        return ""
    buttons = "".join(
        f'<button type="button" class="btn billing-action" data-action="{action}" '
        f'data-invoice-id="{escape(invoice_id)}" aria-label="{escape(label)}">'
        f"{escape(text)}</button>"
        for action, text, label in _BUTTONS
    )
    writes = list(getattr(billing, "playbook_writes", []))
    latest = f" · last change: {escape(_write_text(writes[-1]))}" if writes else ""
    return (
        '<div class="billing-buttons playbook-bar" style="flex-direction: row; flex-wrap: wrap; '
        'align-items: center; margin-top: .3rem" aria-label="Playbook events">'
        f'<span class="small">Playbooks:</span>{buttons}<span class="small">{latest}</span></div>'
    )


_BUTTONS = (
    ("large_payment", "Pays $2,500", "Playbooks: a payment of $2,500.00"),
    ("fraud_small", "Fraud $12", "Playbooks: an early fraud warning on a $12.00 charge"),
    ("fraud_large", "Fraud $40", "Playbooks: an early fraud warning on a $40.00 charge"),
)


def _write_text(write: dict[str, Any]) -> str:
    if write["kind"] == "refund":
        return f"refund of {format_amount(write['amount'], write['currency'])} on {write['charge']}"
    pairs = ", ".join(f"{k}={v}" for k, v in write["metadata"].items())
    return f"metadata {pairs} on {write['customer']}"
