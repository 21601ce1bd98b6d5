"""Past MAX_EMAILS_PER_INVOICE a new failure is escalated in the approvals channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.slack.ids import ApprovalAction
from tests.fakes.slack_server import FakeSlack
from tests.fakes.stripe_server import FakeStripe
from tests.slack_flow.conftest import (
    APPROVALS,
    FINANCE,
    SlackHarness,
    add_standard,
    message_text,
    wired_harness,
)


@pytest.fixture
async def capped(
    database_url: str, fake_slack: FakeSlack, fake_stripe: FakeStripe, tmp_path: Path
) -> AsyncIterator[SlackHarness]:
    async with wired_harness(
        database_url,
        fake_slack,
        fake_stripe,
        tmp_path,
        email_backend="file",
        email_outbox_dir=tmp_path / "outbox",
        max_emails_per_invoice=1,
        min_days_between_emails=0,
    ) as harness:
        yield harness


async def test_failure_after_the_last_allowed_email_is_escalated_in_the_cards_thread(
    capped: SlackHarness,
) -> None:
    sh = capped
    add_standard(sh.stripe)
    await sh.fail("in_std")
    card = await sh.card("approval", (await sh.latest_draft("in_std")).id)
    await sh.click(ApprovalAction.APPROVE, FINANCE, card)
    await sh.worker.run_until_idle()
    sh.stripe.update_invoice("in_std", attempt_count=2)
    await sh.fail("in_std")
    threaded = [c for c in sh.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert len(threaded) == 1
    [note] = threaded
    assert note.args["channel"] == APPROVALS and note.args["thread_ts"] == card["ts"]
    assert "Needs attention" in message_text(
        note.args
    ) and "1 email sent for this invoice" in message_text(note.args)
    sh.stripe.update_invoice("in_std", attempt_count=3)
    await sh.fail("in_std")  # escalated once, not again
    assert len([c for c in sh.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]) == 1
