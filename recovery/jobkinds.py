"""Names of the jobs the recovery engine runs, and the keys that dedupe and serialise them."""

from __future__ import annotations

from enum import StrEnum


class JobKind(StrEnum):
    PROCESS_STRIPE_EVENT = "process_stripe_event"
    REEVALUATE_CASE = "reevaluate_case"
    DRAFT_EMAIL = "draft_email"
    SEND_EMAIL = "send_email"
    NOTIFY = "notify"
    VIP_CLAIM_REMINDER = "vip_claim_reminder"
    PAUSE_EXPIRED = "pause_expired"


# Work that becomes pointless once an invoice is settled; cancelled with the case.
CASE_WORK_KINDS = (
    JobKind.REEVALUATE_CASE,
    JobKind.DRAFT_EMAIL,
    JobKind.SEND_EMAIL,
    JobKind.VIP_CLAIM_REMINDER,
)


def invoice_serial_key(invoice_id: str) -> str:
    """Jobs of one invoice never run at the same time."""
    return f"invoice:{invoice_id}"


def customer_serial_key(customer_id: str) -> str:
    return f"customer:{customer_id}"
