"""A card whose email was sent, or decided otherwise, still says paid once the invoice is paid."""

from __future__ import annotations

import pytest

from bot.slack.blocks.approval import approval_card
from bot.slack.views import ApprovalStatus
from tests.slack.conftest import NOW, make_approval


@pytest.mark.parametrize(
    "status", [ApprovalStatus.SENT, ApprovalStatus.REJECTED, ApprovalStatus.FAILED]
)
def test_paid_invoice_is_said_on_a_decided_card(status: ApprovalStatus) -> None:
    view = make_approval(status=status, decided_by="U123", decided_at=NOW, invoice_paid=True)
    text, blocks = approval_card(view)
    assert "invoice paid" in text
    assert any("invoice paid" in (b.get("text") or {}).get("text", "") for b in blocks)


def test_unpaid_sent_card_does_not_claim_payment() -> None:
    text, _ = approval_card(make_approval(status=ApprovalStatus.SENT, decided_by="U123"))
    assert "paid" not in text
