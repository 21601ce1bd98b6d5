"""Plain data the Block Kit builders render: no database, no Slack client.

The lead's handlers load rows and fill these; `bot.slack.blocks` turns them into messages.
Customer-provided strings are stored raw here; the builders escape them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from recovery.domain import AttemptStage

_CUSTOMER_ID = re.compile(r"^cus_[A-Za-z0-9]+$")


class ApprovalStatus(StrEnum):
    """Life of a draft on its approval card; PENDING, FAILED and UNKNOWN show buttons."""

    PENDING = "pending"
    REGENERATING = "regenerating"
    APPROVED = "approved"
    WAITING = "waiting"  # approved, but dunning is paused for the customer
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"
    REJECTED = "rejected"
    CANCELLED_PAID = "cancelled_paid"
    CANCELLED_VOIDED = "cancelled_voided"
    CANCELLED_UNCOLLECTIBLE = "cancelled_uncollectible"
    SUPERSEDED = "superseded"


class VipTaskStatus(StrEnum):
    """Life of a VIP task on its card."""

    OPEN = "open"
    CLAIMED = "claimed"
    DONE = "done"
    RESOLVED_PAID = "resolved_paid"
    RESOLVED_VOIDED = "resolved_voided"
    RESOLVED_UNCOLLECTIBLE = "resolved_uncollectible"


def stripe_customer_url(customer_id: str, *, livemode: bool = True) -> str:
    """The Stripe dashboard page of a customer (test-mode pages live under /test/)."""
    if not _CUSTOMER_ID.match(customer_id):
        raise ValueError(f"not a Stripe customer id: {customer_id!r}")
    prefix = "" if livemode else "test/"
    return f"https://dashboard.stripe.com/{prefix}customers/{customer_id}"


@dataclass(frozen=True, kw_only=True)
class ApprovalCardView:
    """One draft email for a standard customer, as finance sees it in Slack."""

    case_id: int
    draft_id: int
    version: int
    invoice_id: str
    invoice_number: str | None = None
    customer_name: str | None = None
    customer_email: str | None = None
    amount_text: str  # already formatted, e.g. "$49.00"
    attempt_number: int = 1
    stage: AttemptStage = AttemptStage.FIRST
    decline_reason: str | None = None  # plain words, e.g. "insufficient funds"
    ltv_text: str | None = None  # e.g. "$1,200.00 lifetime"
    segment_reasons: Sequence[str] = ()
    subject: str
    body: str
    source: Literal["ai", "template"] = "template"
    provider: str | None = None
    model: str | None = None
    fallback_reason: str | None = None
    guardrail_notes: Sequence[str] = ()
    edited_by: str | None = None  # Slack user id of whoever last edited the draft's text
    status: ApprovalStatus = ApprovalStatus.PENDING
    decided_by: str | None = None  # Slack user id of whoever approved / rejected / marked
    decided_at: datetime | None = None
    reject_reason: str | None = None
    send_error: str | None = None
    sent_at: datetime | None = None
    hosted_invoice_url: str | None = None  # the pay link the email will carry
    invoice_paid: bool = False  # the case ended paid (a sent email's card says so too)
    sms_status: str | None = None  # the SMS beside the email (DUNNING_CHANNELS), if any
    sms_note: str | None = None  # why it waits, was skipped or failed
    sms_choice: bool = False  # DUNNING_CHANNELS=email,sms: offer "Email only" / "SMS only"
    sms_preview: str | None = None  # the SMS Approve would send (SMS on, draft pending)
    plan_line: str | None = None  # mrkdwn: "Plan annual: retry 5 of 8, next on 14 Jan; …"


@dataclass(frozen=True, kw_only=True)
class VipTaskCardView:
    """An urgent task for an account manager: a VIP customer's payment failed."""

    task_id: int
    version: int
    invoice_id: str
    invoice_number: str | None = None
    customer_id: str
    customer_name: str | None = None
    customer_email: str | None = None
    amount_text: str
    ltv_text: str | None = None
    decline_reason: str | None = None
    segment_reasons: Sequence[str] = ()
    livemode: bool = True
    stripe_dashboard: bool = True  # False with sandbox billing: no Stripe page to link to
    status: VipTaskStatus = VipTaskStatus.OPEN
    owner_id: str | None = None  # Slack user id of who claimed it / marked it done
    claimed_at: datetime | None = None
    done_at: datetime | None = None
    note: str | None = None
    invoice_paid: bool = False  # the case ended paid (a closed task's card says so too)
    deliveries: Sequence[tuple[str, str]] = ()  # (target, status) besides Slack: Teams, webhook
    account_owners: Sequence[str] = ()  # Slack ids a customer rule made the customer's owners
    plan_line: str | None = None  # mrkdwn: "Plan annual: retry 5 of 8, next on 14 Jan; …"

    @property
    def dashboard_url(self) -> str | None:
        """`https://dashboard.stripe.com/customers/cus_…`; None when billing is a sandbox."""
        if not self.stripe_dashboard:
            return None
        return stripe_customer_url(self.customer_id, livemode=self.livemode)


@dataclass(frozen=True, kw_only=True)
class HomeCaseRow:
    """One line on the App Home: an open approval or VIP task."""

    invoice_id: str
    invoice_number: str | None = None
    customer_name: str | None = None
    customer_email: str | None = None
    amount_text: str
    status_text: str  # e.g. "waiting for approval", "claimed by <@U1>" (trusted markup)
    permalink: str | None = None  # link to the card's message
    opened_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class HomeBatchRow:
    """One line on the App Home: a batch of a burst's drafts waiting for approval."""

    batch_id: int
    count: int  # drafts Approve all would approve now
    total_text: str  # e.g. "$2,058.00"
    group_text: str  # already escaped, e.g. "card expired · standard customers · …"
    channel: str | None = None  # where its message is
    opened_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class PausedCustomerRow:
    """A customer whose dunning is paused."""

    customer_id: str
    customer_name: str | None = None
    customer_email: str | None = None
    until: datetime | None = None  # None: until resumed
    reason: str | None = None
    paused_by: str | None = None  # Slack user id


@dataclass(frozen=True, kw_only=True)
class OwnedCustomerRow:
    """A customer the viewer owns (assigned by a customer rule)."""

    customer_id: str
    customer_name: str | None = None
    customer_email: str | None = None
    facts_text: str = ""  # e.g. "rating B · outstanding €120.00"
    excluded: bool = False


@dataclass(frozen=True, kw_only=True)
class HomeView:
    """The App Home tab of one Slack user."""

    user_id: str
    can_approve: bool = False
    can_claim: bool = False
    pending_approvals: Sequence[HomeCaseRow | HomeBatchRow] = ()  # the review queue, oldest first
    open_vip_tasks: Sequence[HomeCaseRow] = ()
    paused_customers: Sequence[PausedCustomerRow] = ()
    my_customers: Sequence[OwnedCustomerRow] = ()
    recovered_text: str | None = None  # e.g. "$4,210.00 recovered in the last 30 days"
    updated_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class DigestItem:
    """One failed payment inside a burst digest."""

    invoice_id: str
    invoice_number: str | None = None
    customer_name: str | None = None
    customer_email: str | None = None
    amount_text: str
    vip: bool = False


@dataclass(frozen=True, kw_only=True)
class DigestView:
    """A burst of failures summarised in one message; per-invoice cards go in its thread."""

    items: Sequence[DigestItem]
    window_text: str = "the last minute"
    total_texts: Sequence[str] = field(default=())  # one per currency, e.g. ("$1,200.00",)


class BatchLineState(StrEnum):
    """Where one draft of a batch stands."""

    PENDING = "pending"  # waiting for a decision
    QUEUED = "queued"  # the batch was decided; its turn in the fan-out has not come yet
    WAITING = "waiting"  # approved; the email is queued, retrying or held by a pause
    SENT = "sent"
    PAID_BEFORE_SENDING = "paid_before_sending"  # approved, invoice settled before it left
    FAILED = "failed"  # sending failed or its outcome is unknown: its own card asks a person
    REJECTED = "rejected"
    SETTLED = "settled"  # the invoice was paid (or voided) while the draft waited
    SKIPPED = "skipped"  # left alone by the batch decision (reason given)


@dataclass(frozen=True, kw_only=True)
class BatchLine:
    """One draft listed in a batch message."""

    draft_id: int
    draft_version: int
    invoice_id: str
    invoice_number: str | None = None
    customer_name: str | None = None
    customer_email: str | None = None
    amount: int  # minor units of the batch's currency
    amount_text: str
    state: BatchLineState = BatchLineState.PENDING
    reason: str | None = None  # why it was skipped (our words)
    actionable: bool = False  # the draft still waits for a decision (its invoice open)
    subject: str = ""
    body: str = ""


@dataclass(frozen=True, kw_only=True)
class BatchView:
    """A batch review message: a burst's drafts of one group, decided together."""

    batch_id: int
    version: int
    status: str  # storage.models.BatchStatus
    currency: str
    decline_text: str  # e.g. "card expired"
    segment: str
    language_text: str  # e.g. "English"
    source: Literal["ai", "template"]
    lines: Sequence[BatchLine]
    decided_by: str | None = None
    decided_at: datetime | None = None

    def in_state(self, state: BatchLineState) -> list[BatchLine]:
        """The lines in one state, in the order they joined."""
        return [line for line in self.lines if line.state is state]

    @property
    def pending(self) -> list[BatchLine]:
        """The drafts Approve all would approve now."""
        return self.in_state(BatchLineState.PENDING)
