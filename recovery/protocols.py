"""What the recovery engine needs from the outside world, as small Protocols.

`bot/` provides the real adapters (`bot/adapters/`: Stripe, LLMs, mail; `bot/slack/`; the
sandbox billing in `bot/sandbox/`); tests run them against local fake servers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from recovery.domain import (
    CustomerSnapshot,
    DeclineInfo,
    DraftRequest,
    DraftResult,
    InvoiceSnapshot,
    OutgoingEmail,
    TaskFacts,
)


class BillingError(Exception):
    """A billing read failed in a way worth retrying later (429, 5xx, network)."""


class NotFoundError(Exception):
    """The billing object does not exist."""


class PaymentDeclined(Exception):  # noqa: N818 - an outcome the caller expects
    """A payment attempt was declined (`decline_code` as the card network said, if any)."""

    def __init__(self, message: str, *, decline_code: str | None = None) -> None:
        super().__init__(message)
        self.decline_code = decline_code


class BillingReader(Protocol):
    """Reads from the billing system (Stripe). Every call may raise BillingError."""

    async def get_invoice(self, invoice_id: str) -> InvoiceSnapshot: ...

    async def get_customer(self, customer_id: str) -> CustomerSnapshot: ...

    async def find_customer_by_email(self, email: str) -> CustomerSnapshot | None: ...

    async def lifetime_value(self, customer_id: str) -> dict[str, int]:
        """Sum of amount_paid over all paid invoices of the customer, per currency."""
        ...

    async def decline_info(self, invoice: InvoiceSnapshot) -> DeclineInfo: ...


class BillingWriter(Protocol):
    """Changes in the billing system (Stripe), implemented by bot/adapters/stripe_billing.py.

    Every call carries an idempotency key, so a job retried after a crash repeats the same
    request instead of making a second change; every call may raise BillingError.
    """

    async def update_customer_metadata(
        self, customer_id: str, metadata: Mapping[str, str], *, idempotency_key: str
    ) -> None: ...

    async def refund_charge(
        self, charge_id: str, *, amount: int | None, reason: str | None, idempotency_key: str
    ) -> str:
        """Refund `amount` (minor units; None for all) of a charge; returns the refund id."""
        ...

    async def cancel_subscription(
        self, subscription_id: str, *, at_period_end: bool, idempotency_key: str
    ) -> None: ...

    async def pay_invoice(self, invoice_id: str, *, idempotency_key: str) -> None:
        """Charge the invoice now; raises PaymentDeclined on a decline; paid already → None."""
        ...

    async def mark_invoice_uncollectible(
        self, invoice_id: str, *, idempotency_key: str
    ) -> None: ...


# A read-only key is enough for everything built so far: `Billing` stays the reader.
Billing = BillingReader


class SmsError(Exception):
    """Base class of SMS delivery failures."""


class TemporarySmsError(SmsError):
    """Not sent, safe to retry (429, 5xx, the provider unreachable before the request)."""


class PermanentSmsError(SmsError):
    """Not sent and never will be (invalid number, the recipient opted out, bad sender)."""


class UnknownSmsOutcome(SmsError):
    """The request may have reached the provider: never resend blindly."""


class SmsSender(Protocol):
    """Sends one SMS; returns the provider's message id; raises an SmsError subclass."""

    async def send(self, *, to: str, body: str) -> str: ...


class TaskTargetError(Exception):
    """A VIP task was not delivered to a target (non-2xx, unreachable): retried with backoff."""


class TaskTargets(Protocol):
    """Delivers VIP tasks to targets besides Slack (Teams, an outbound webhook)."""

    async def deliver(self, *, target: str, message_id: str, task: TaskFacts) -> None:
        """POST the task once; `message_id` is the same on every retry of this delivery."""
        ...


class PayLinks(Protocol):
    """The one link of a case's email (PAY_LINK): Stripe's invoice page or a dunbot link."""

    def pay_url(self, *, case_id: int, invoice: InvoiceSnapshot) -> str | None: ...


class Drafter(Protocol):
    """Writes a checked draft email body. Never raises: falls back to the template; only
    `recovery.drafting.provider.ProviderDeferred` (wait for the shared LLM budget) escapes."""

    async def draft(self, request: DraftRequest) -> DraftResult: ...


class MailError(Exception):
    """Base class of delivery failures."""


class TemporaryMailError(MailError):
    """Not delivered, safe to retry (4xx before the message was accepted, refused connection)."""


class PermanentMailError(MailError):
    """Not delivered and never will be (5xx)."""


class UnknownMailOutcome(MailError):
    """The connection broke after DATA: the message may or may not have left. Never resend."""


class Mailer(Protocol):
    """Delivers one rendered email; raises a MailError subclass on failure."""

    async def send(self, email: OutgoingEmail) -> None: ...


class Notifier(Protocol):
    """Shows the state of cases to people. Each call renders the current database state,
    so calling it twice is harmless (post the first time, update in place afterwards)."""

    async def sync_approval_card(self, *, draft_id: int) -> None: ...

    async def sync_vip_task_card(self, *, task_id: int) -> None: ...

    async def sync_case_cards(self, *, case_id: int) -> None:
        """Update every card of a case (e.g. after it was paid or voided)."""
        ...

    async def escalate(self, *, case_id: int, note: str) -> None: ...

    async def remind_vip_task(self, *, task_id: int) -> None: ...

    async def sync_batch(self, *, batch_id: int) -> None:
        """Post or update the message of a batch review (recovery.batches)."""
        ...

    async def sync_digest(self, *, digest_id: int) -> None:
        """Re-render a burst digest from the cards now in its thread."""
        ...
