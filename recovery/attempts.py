"""Where a failed invoice sits in Stripe's automatic retry schedule.

Stripe sets `next_payment_attempt` on an open invoice while it still plans to retry the
charge (Smart Retries or a fixed schedule) and clears it after the last attempt. So an open
invoice that has been attempted and has no next attempt is the final failure: from then on
only the customer (through the pay link) or a person can settle it.
"""

from __future__ import annotations

from recovery.domain import AttemptStage, InvoiceSnapshot


def will_stripe_retry(invoice: InvoiceSnapshot) -> bool:
    """True while Stripe has another automatic attempt scheduled for this open invoice."""
    return invoice.status == "open" and invoice.next_payment_attempt is not None


def attempt_stage(invoice: InvoiceSnapshot, max_attempts_hint: int | None = None) -> AttemptStage:
    """FIRST, FOLLOW_UP or FINAL for the invoice's latest failed attempt.

    FINAL when Stripe will not retry (no `next_payment_attempt` after at least one attempt),
    or when `attempt_count` reached `max_attempts_hint` (the account's configured retry count,
    if known). Otherwise FIRST for the first attempt (or none yet), FOLLOW_UP after that.
    """
    attempts = invoice.attempt_count
    if attempts >= 1 and not will_stripe_retry(invoice):
        return AttemptStage.FINAL
    if max_attempts_hint is not None and attempts >= max_attempts_hint:
        return AttemptStage.FINAL
    if attempts <= 1:
        return AttemptStage.FIRST
    return AttemptStage.FOLLOW_UP
