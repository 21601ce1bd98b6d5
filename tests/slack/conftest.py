"""Fixtures for the Slack adapter's pure pieces: views with sensible defaults, a fake Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.slack.views import ApprovalCardView, VipTaskCardView
from tests.fakes.slack_server import FakeSlack

HOSTILE_NAME = "<!channel> *boss* <@U999> & _co_ @here"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def make_approval(**changes: Any) -> ApprovalCardView:
    """An approval card view for invoice in_1Abc (INV-0042), customer Ana Pereira."""
    fields: dict[str, Any] = {
        "case_id": 7,
        "draft_id": 11,
        "version": 3,
        "invoice_id": "in_1Abc",
        "invoice_number": "INV-0042",
        "customer_name": "Ana Pereira",
        "customer_email": "ana@example.com",
        "amount_text": "$49.00",
        "attempt_number": 2,
        "decline_reason": "insufficient funds",
        "ltv_text": "$1,200.00 lifetime",
        "segment_reasons": ["Lifetime value $1,200.00 is below the VIP threshold $5,000.00"],
        "subject": "Your payment for INV-0042 didn't go through",
        "body": "Hi Ana, your card was declined. Please update it. Thanks!",
        "source": "ai",
        "provider": "openai",
        "model": "gpt-4o-mini",
    }
    fields.update(changes)
    return ApprovalCardView(**fields)


def make_vip_task(**changes: Any) -> VipTaskCardView:
    """A VIP task view for invoice in_9Xyz, customer Big Corp (cus_Big1)."""
    fields: dict[str, Any] = {
        "task_id": 5,
        "version": 1,
        "invoice_id": "in_9Xyz",
        "invoice_number": "INV-0100",
        "customer_id": "cus_Big1",
        "customer_name": "Big Corp",
        "customer_email": "ap@bigcorp.example",
        "amount_text": "$12,000.00",
        "ltv_text": "$250,000.00 lifetime",
        "decline_reason": "card expired",
        "segment_reasons": ["Lifetime value $250,000.00 is at or above $5,000.00"],
    }
    fields.update(changes)
    return VipTaskCardView(**fields)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A started fake Slack Web API (`fake_slack.base_url` ends in /api/)."""
    async with FakeSlack() as slack:
        yield slack
