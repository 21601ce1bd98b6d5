"""Domain value objects shared by the recovery engine and its adapters.

Everything here is plain data: read from Stripe, handed to the Drafter, the Mailer and the
Notifier. Amounts are always integers in the currency's minor unit, as Stripe sends them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field

from recovery.storable_text import NAME_MAX_CHARS, storable_email, storable_line


def _name(value: Any) -> Any:
    return storable_line(value, max_chars=NAME_MAX_CHARS) if isinstance(value, str) else value


def _email(value: Any) -> Any:
    return storable_email(value) if isinstance(value, str) else value


def _label(value: Any) -> Any:
    return storable_line(value, max_chars=255) if isinstance(value, str) else value


def _locales(value: Any) -> Any:
    """Locale tags fit their column (35) and hold no control characters; others are dropped."""
    if not isinstance(value, list):
        return value
    cleaned = [storable_line(str(tag), max_chars=36) for tag in value]
    return [tag for tag in cleaned if tag and len(tag) <= 35]


# Customer-provided text from Stripe, cleaned where it enters (see recovery/storable_text.py).
StoredName = Annotated[str | None, BeforeValidator(_name)]
StoredEmail = Annotated[str | None, BeforeValidator(_email)]
StoredLabel = Annotated[str | None, BeforeValidator(_label)]


class DeclineCategory(StrEnum):
    """Plain-words reason a card payment failed, derived from Stripe decline codes."""

    INSUFFICIENT_FUNDS = "insufficient_funds"
    EXPIRED_CARD = "expired_card"
    AUTHENTICATION_REQUIRED = "authentication_required"
    INCORRECT_DETAILS = "incorrect_details"
    CARD_NOT_SUPPORTED = "card_not_supported"
    PROCESSING_ERROR = "processing_error"
    GENERIC_DECLINE = "generic_decline"
    UNKNOWN = "unknown"


class AttemptStage(StrEnum):
    """Where in Stripe's retry schedule this failure sits."""

    FIRST = "first"
    FOLLOW_UP = "follow_up"
    FINAL = "final"


class Segment(StrEnum):
    VIP = "vip"
    STANDARD = "standard"


class InvoiceSnapshot(BaseModel):
    """The facts about an invoice, re-read from Stripe (the source of truth)."""

    id: str
    number: StoredLabel = None
    customer_id: str
    customer_email: StoredEmail = None
    customer_name: StoredName = None
    status: str
    currency: str
    amount_due: int
    amount_paid: int = 0
    amount_remaining: int
    attempt_count: int = 0
    next_payment_attempt: datetime | None = None
    due_date: datetime | None = None
    hosted_invoice_url: str | None = None
    created: datetime | None = None
    plan_keys: list[str] = Field(default_factory=list)  # price ids, product ids, lookup keys
    # Read in the same request as the invoice when the billing adapter can (Stripe's expand):
    # None means "not read with it", so the caller asks for it separately.
    customer: CustomerSnapshot | None = None
    decline: DeclineInfo | None = None

    @property
    def is_collectible(self) -> bool:
        """True when dunning should act: still open with money owed."""
        return self.status == "open" and self.amount_remaining > 0


class CustomerSnapshot(BaseModel):
    """What we know about a Stripe customer."""

    id: str
    name: StoredName = None
    email: StoredEmail = None
    preferred_locales: Annotated[list[str], BeforeValidator(_locales)] = Field(default_factory=list)
    metadata: dict[str, str] = Field(default_factory=dict)
    deleted: bool = False
    created: datetime | None = None  # customer since (tenure)
    phone: str | None = None  # as the customer typed it; SMS normalises it to E.164
    country: str | None = None  # ISO code of the customer's address, for national numbers

    @property
    def locale(self) -> str | None:
        """The customer's first preferred locale, if any."""
        return self.preferred_locales[0] if self.preferred_locales else None


class DeclineInfo(BaseModel):
    """Why the latest payment attempt failed. `message` is Stripe's text, for staff only."""

    category: DeclineCategory = DeclineCategory.UNKNOWN
    decline_code: str | None = None
    advice_code: str | None = None
    message: str | None = None


class SegmentDecision(BaseModel):
    """VIP or standard, with the reasons in words a finance person reads."""

    segment: Segment
    reasons: list[str]
    ltv_by_currency: dict[str, int] = Field(default_factory=dict)


class DraftRequest(BaseModel):
    """Everything the Drafter may use. Customer fields are untrusted data, never instructions."""

    invoice_id: str
    invoice_number: str | None = None
    customer_name: str | None = None
    customer_email: str | None = None
    company_name: str
    locale: str = "en"
    decline_category: DeclineCategory = DeclineCategory.UNKNOWN
    stage: AttemptStage = AttemptStage.FIRST
    attempt_number: int = 1
    will_retry: bool = False
    amount_due: int
    currency: str
    due_date: datetime | None = None
    instruction: str | None = None  # from a finance person pressing Regenerate
    previous_body: str | None = None


class DraftResult(BaseModel):
    """A checked draft: subject and at most three sentences of body."""

    subject: str
    body: str
    source: Literal["ai", "template"]
    provider: str
    model: str | None = None
    prompt_version: str
    fallback_reason: str | None = None
    guardrail_notes: list[str] = Field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class OutgoingEmail(BaseModel):
    """A fully rendered email, ready for a Mailer."""

    message_id: str
    from_addr: str
    to_addr: str
    reply_to: str | None = None
    subject: str
    text_body: str
    html_body: str


class TaskFacts(BaseModel):
    """What a VIP task says, for targets besides Slack (the same facts as the Slack card)."""

    task_id: int
    case_id: int
    invoice_id: str
    invoice_number: str | None = None
    customer_id: str
    customer_name: str | None = None
    customer_email: str | None = None
    amount_due: int
    currency: str
    amount_text: str
    reasons: list[str] = Field(default_factory=list)
    opened_at: datetime
    stripe_url: str  # the invoice in the Stripe Dashboard: the link back


InvoiceSnapshot.model_rebuild()
