"""Retry stage of a failed invoice, from attempt_count and next_payment_attempt."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from recovery.attempts import attempt_stage, will_stripe_retry
from recovery.domain import AttemptStage, InvoiceSnapshot

LATER = datetime(2030, 1, 1, tzinfo=UTC)


def _invoice(
    *, attempts: int, next_attempt: datetime | None, status: str = "open"
) -> InvoiceSnapshot:
    return InvoiceSnapshot(
        id="in_1",
        customer_id="cus_1",
        status=status,
        currency="usd",
        amount_due=4900,
        amount_remaining=4900 if status == "open" else 0,
        attempt_count=attempts,
        next_payment_attempt=next_attempt,
    )


@pytest.mark.parametrize(
    ("attempts", "next_attempt", "hint", "expected"),
    [
        (1, LATER, None, AttemptStage.FIRST),
        (0, None, None, AttemptStage.FIRST),  # not attempted yet
        (2, LATER, None, AttemptStage.FOLLOW_UP),
        (3, LATER, None, AttemptStage.FOLLOW_UP),
        (4, None, None, AttemptStage.FINAL),  # Stripe stopped retrying
        (1, None, None, AttemptStage.FINAL),  # no retries configured: the first is the last
        (4, LATER, 4, AttemptStage.FINAL),  # the account's retry count reached
        (3, LATER, 4, AttemptStage.FOLLOW_UP),
    ],
)
def test_attempt_stage(
    attempts: int, next_attempt: datetime | None, hint: int | None, expected: AttemptStage
) -> None:
    invoice = _invoice(attempts=attempts, next_attempt=next_attempt)
    assert attempt_stage(invoice, max_attempts_hint=hint) is expected


def test_will_stripe_retry() -> None:
    assert will_stripe_retry(_invoice(attempts=1, next_attempt=LATER))
    assert not will_stripe_retry(_invoice(attempts=4, next_attempt=None))
    assert not will_stripe_retry(_invoice(attempts=1, next_attempt=LATER, status="paid"))
