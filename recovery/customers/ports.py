"""What customer rules need from outside, as small Protocols (adapters live in bot/)."""

from __future__ import annotations

from typing import Protocol

from recovery.customers.facts import InvoiceRecord
from recovery.domain import CustomerSnapshot


class CustomerHistory(Protocol):
    """Reads a customer and all of their invoices from Stripe (the source of truth)."""

    async def get_customer(self, customer_id: str) -> CustomerSnapshot: ...

    async def invoice_history(self, customer_id: str) -> list[InvoiceRecord]: ...


class CustomerNotifier(Protocol):
    """Slack, as customer rules use it."""

    async def post_text(self, *, channel: str, text: str, footer: str) -> None:
        """Post already-escaped mrkdwn to a channel or a user's DM (channel = U…)."""
        ...

    async def user_by_email(self, email: str) -> str | None:
        """The Slack user id for an email (users.lookupByEmail), None when nobody has it."""
        ...
