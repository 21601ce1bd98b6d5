"""What the approval card says after a send through a real SMTP server: dunbot fully wired
(Bolt, fake Slack Web API, fake Stripe) with EMAIL_BACKEND=smtp and SMTP_TLS=false."""

from __future__ import annotations

from sqlalchemy import select

from bot.slack.ids import ApprovalAction
from storage.models import Case, CaseStatus, OutboxEmail, OutboxStatus
from tests.delivery.conftest import mark_paid
from tests.fakes.smtp_server import DROP, ScriptedSmtpServer
from tests.slack_flow.conftest import (
    FINANCE,
    FINANCE_2,
    SlackHarness,
    add_standard,
    buttons,
    message_text,
)


async def approval_card(ssh: SlackHarness) -> dict:
    draft = await ssh.latest_draft("in_std")
    return await ssh.card("approval", draft.id)


async def outbox_and_case(ssh: SlackHarness) -> tuple[OutboxEmail, Case]:
    async with ssh.runtime.db.sessions() as session:
        outbox = await session.scalar(select(OutboxEmail))
        case = await session.scalar(select(Case).where(Case.invoice_id == "in_std"))
    assert outbox is not None and case is not None
    return outbox, case


async def approve(ssh: SlackHarness, user: str = FINANCE) -> None:
    card = await approval_card(ssh)
    assert (await ssh.click(ApprovalAction.APPROVE, user, card)).status_code == 200


async def test_sent_through_smtp_card_says_sent(
    ssh: SlackHarness, smtp: ScriptedSmtpServer
) -> None:
    add_standard(ssh.stripe)
    await ssh.fail("in_std")
    await approve(ssh)
    await ssh.worker.run_until_idle()
    [received] = smtp.messages
    assert received.rcpt_tos == ["ana@example.com"]
    text = message_text(await approval_card(ssh))
    assert "Sent, awaiting payment" in text and "Email sent" in text and f"<@{FINANCE}>" in text


async def test_550_to_rcpt_fails_and_the_card_says_so(
    ssh: SlackHarness, smtp: ScriptedSmtpServer
) -> None:
    add_standard(ssh.stripe)
    await ssh.fail("in_std")
    smtp.script("RCPT", "550 5.1.1 <ana@example.com>: mailbox unavailable")
    await approve(ssh)
    await ssh.worker.run_until_idle()

    assert smtp.messages == [] and smtp.commands == ["MAIL", "RCPT"]
    outbox, _ = await outbox_and_case(ssh)
    assert outbox.status == OutboxStatus.FAILED
    card = await approval_card(ssh)
    text = message_text(card)
    assert "Sending failed" in text and "550" in text and "mailbox unavailable" in text
    assert ApprovalAction.APPROVE not in buttons(card)
    assert len(ssh.slack.calls_to("chat.postMessage")) == 1  # updated in place


async def test_paid_between_approval_and_send_sends_nothing_and_card_says_paid(
    ssh: SlackHarness, smtp: ScriptedSmtpServer
) -> None:
    add_standard(ssh.stripe)
    await ssh.fail("in_std")
    await approve(ssh)
    mark_paid(ssh.stripe)  # the customer pays before the send job runs; no webhook yet
    await ssh.worker.run_until_idle()

    assert smtp.connection_count == 0 and smtp.commands == []
    outbox, case = await outbox_and_case(ssh)
    assert outbox.status == OutboxStatus.CANCELLED and outbox.attempts == 0
    assert case.status == CaseStatus.PAID and case.emails_sent == 0
    card = await approval_card(ssh)
    assert "Invoice paid — nothing to send" in message_text(card)
    assert buttons(card) == {}


async def test_unknown_outcome_card_offers_retry_and_mark_as_sent(
    ssh: SlackHarness, smtp: ScriptedSmtpServer
) -> None:
    add_standard(ssh.stripe)
    await ssh.fail("in_std")
    smtp.script("DATA", DROP)
    await approve(ssh)
    await ssh.worker.run_until_idle()

    outbox, _ = await outbox_and_case(ssh)
    assert outbox.status == OutboxStatus.UNKNOWN and len(smtp.unanswered) == 1
    card = await approval_card(ssh)
    assert "Delivery unknown" in message_text(card)
    assert set(buttons(card)) == {ApprovalAction.RETRY_SEND, ApprovalAction.MARK_SENT}
    await ssh.worker.run_until_idle()
    assert smtp.commands.count("DATA") == 1  # nothing resends it by itself

    response = await ssh.click(ApprovalAction.MARK_SENT, FINANCE_2, card)
    assert response.status_code == 200
    await ssh.worker.run_until_idle()
    outbox, case = await outbox_and_case(ssh)
    assert outbox.status == OutboxStatus.SENT and case.emails_sent == 1
    assert smtp.messages == [] and smtp.commands.count("DATA") == 1
    updated = await approval_card(ssh)
    assert "Sent, awaiting payment" in message_text(updated)
    assert "Email sent" in message_text(updated)
    assert buttons(updated) == {}
    # A late Retry on the old card changes nothing.
    assert (await ssh.click(ApprovalAction.RETRY_SEND, FINANCE, card)).status_code == 200
    await ssh.worker.run_until_idle()
    assert smtp.commands.count("DATA") == 1
