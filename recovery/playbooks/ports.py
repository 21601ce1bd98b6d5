"""What the playbook runner needs from outside, as small Protocols (adapters live in bot/)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class StripeObjects(Protocol):
    """Re-reads Stripe objects by kind ('charge', 'customer', …). May raise BillingError or
    NotFoundError."""

    async def retrieve_object(self, kind: str, object_id: str) -> dict[str, Any]: ...


class OverdueInvoices(Protocol):
    """Lists open invoices whose due date is before a moment (for the daily sweep)."""

    async def list_overdue_invoices(self, *, due_before: int) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class OverdueAlert:
    """What an overdue alert shows (values are raw: the notifier escapes them)."""

    action_id: int
    invoice_id: str
    number: str | None
    customer_id: str | None
    customer_name: str | None
    owner: str | None  # a Slack user id, when dunbot knows the customer's owner
    amount: str  # formatted, e.g. "$1,200.00"
    days_overdue: int
    rule: str


class PlaybookNotifier(Protocol):
    """Shows playbook work to people in Slack."""

    async def post_message(self, *, channel: str, text: str, footer: str) -> None:
        """A message from a rule (text already escaped for mrkdwn)."""
        ...

    async def sync_action_card(self, *, action_id: int) -> None:
        """Post or update the approval card of an action (Approve/Refund, Reject)."""
        ...

    async def report_failure(self, *, action_id: int, error: str) -> None:
        """Tell a person that an action failed for good (or its outcome is unknown)."""
        ...

    async def post_overdue_alert(self, *, channel: str, alert: OverdueAlert) -> None:
        """The overdue alert with a Claim button (posted once per action)."""
        ...

    async def sync_overdue_card(self, *, action_id: int) -> None:
        """Redraw an overdue alert after someone claimed it."""
        ...

    async def post_overdue_digest(self, *, channel: str, lines: list[dict[str, Any]]) -> None:
        """The daily list of invoices still overdue (`OverdueLine.as_payload()` each)."""
        ...


def _identity(text: str) -> str:
    return text


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaybookConfig:
    """Settings the runner needs, passed in by the composition root."""

    dry_run: bool = False
    team_email: str | None = None
    channels: Mapping[str, str | None] = field(default_factory=dict)  # alerts → C…
    email_from: str = "billing@example.com"
    escape_value: Callable[[str], str] = _identity  # Slack mrkdwn for customer data
    escape_text: Callable[[str], str] = _identity  # Slack mrkdwn for a template's own text
    max_attempts: int = 6
    company_name: str = "Example Inc."
    cancellation_survey_url: str | None = None  # a link in the cancellation confirmation

    def channel(self, name: str) -> str | None:
        """A rule's channel name (alerts, collections, approvals) or id → a channel id."""
        if name in self.channels:
            return self.channels[name]
        return name
