"""Approved emails through a real SMTP server: exactly once, and never blindly resent.

The engine's real SmtpMailer (no TLS) talks to a ScriptedSmtpServer in the test's event loop;
the invoice is re-read from a fake Stripe over HTTP right before each send.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.slack.actors import slack_actor
from recovery import decisions
from recovery.pauses import pause_customer, resume_customer
from storage.models import AuditEntry, CaseStatus, JobStatus, OutboxStatus
from tests.delivery.conftest import CUSTOMER_EMAIL, DeliveryHarness, mark_paid
from tests.fakes.smtp_server import DROP
from tests.support.mail import part_text


async def audit_actions(dh: DeliveryHarness) -> list[str]:
    async with dh.db.sessions() as session:
        return list(
            (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
        )


async def test_double_approval_sends_exactly_one_email(dh: DeliveryHarness) -> None:
    draft = await dh.pending_draft()
    first, second = await asyncio.gather(
        dh.approve(draft, "UFIN"), dh.approve(draft, "UFIN2")
    )  # both clicked the same card (same version)
    assert sorted([first.ok, second.ok]) == [False, True]
    assert "already approved" in (second if first.ok else first).message
    await dh.run_jobs()
    await dh.run_jobs()  # nothing left to do: still one email

    assert len(dh.smtp.messages) == 1 and dh.smtp.commands.count("DATA") == 1
    [received] = dh.smtp.messages
    assert received.rcpt_tos == [CUSTOMER_EMAIL] and received.mail_from == "billing@acme.test"
    outbox = await dh.outbox()
    assert outbox.status == OutboxStatus.SENT and outbox.attempts == 1
    assert received.message["Message-ID"] == outbox.message_id
    assert "$49.00" in part_text(received.message)
    [job] = await dh.jobs("send_email")
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 1
    case = await dh.case()
    assert case.emails_sent == 1 and case.last_email_at == outbox.sent_at
    assert ("sync_approval_card", draft.id) in dh.notifier.calls


async def test_421_to_mail_from_is_retried_and_delivered_once(dh: DeliveryHarness) -> None:
    draft = await dh.pending_draft()
    dh.smtp.script("MAIL", "421 4.3.2 Service not available, try again later")
    assert (await dh.approve(draft)).ok
    await dh.run_jobs()

    assert len(dh.smtp.messages) == 1
    assert dh.smtp.commands == ["MAIL", "MAIL", "RCPT", "DATA"]  # no DATA on the refused try
    outbox = await dh.outbox()
    assert outbox.status == OutboxStatus.SENT and outbox.attempts == 2
    assert outbox.last_error is None
    [job] = await dh.jobs("send_email")
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 2
    actions = await audit_actions(dh)
    assert [a for a in actions if a in {"email_retrying", "email_sent"}] == [
        "email_retrying",
        "email_sent",
    ]


async def test_550_to_rcpt_fails_without_retrying(dh: DeliveryHarness) -> None:
    draft = await dh.pending_draft()
    dh.smtp.script("RCPT", "550 5.1.1 No such user here")
    assert (await dh.approve(draft)).ok
    await dh.run_jobs()

    assert dh.smtp.messages == [] and dh.smtp.commands == ["MAIL", "RCPT"]
    outbox = await dh.outbox()
    assert outbox.status == OutboxStatus.FAILED and "550" in (outbox.last_error or "")
    [job] = await dh.jobs("send_email")
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 1  # handled, not retried
    assert (await dh.case()).emails_sent == 0


async def test_connection_lost_after_data_is_unknown_and_never_resent(
    dh: DeliveryHarness,
) -> None:
    draft = await dh.pending_draft()
    dh.smtp.script("DATA", DROP)  # the server reads the message, then hangs up
    assert (await dh.approve(draft)).ok
    await dh.run_jobs()

    outbox = await dh.outbox()
    assert outbox.status == OutboxStatus.UNKNOWN and outbox.attempts == 1
    assert len(dh.smtp.unanswered) == 1 and dh.smtp.messages == []
    assert ("sync_approval_card", draft.id) in dh.notifier.calls
    for _ in range(2):  # the queue holds nothing that would resend it
        await dh.run_jobs()
    assert dh.smtp.commands.count("DATA") == 1
    assert (await dh.outbox()).status == OutboxStatus.UNKNOWN

    async with dh.db.transaction() as session:
        outcome = await decisions.retry_unknown_email(
            session, outbox_id=outbox.id, actor=slack_actor("UFIN")
        )
    assert outcome.ok
    await dh.run_jobs()
    assert len(dh.smtp.messages) == 1 and dh.smtp.commands.count("DATA") == 2
    outbox = await dh.outbox()
    assert outbox.status == OutboxStatus.SENT and outbox.attempts == 2
    # Both transfers carried the same Message-ID, so a recipient can tell the duplicate.
    assert dh.smtp.unanswered[0].message["Message-ID"] == outbox.message_id
    assert dh.smtp.messages[0].message["Message-ID"] == outbox.message_id
    assert (await dh.case()).emails_sent == 1
    async with dh.db.transaction() as session:  # a second click on Retry does nothing
        again = await decisions.retry_unknown_email(
            session, outbox_id=outbox.id, actor=slack_actor("UFIN2")
        )
    assert not again.ok
    await dh.run_jobs()
    assert len(dh.smtp.messages) == 1


async def test_unknown_outcome_marked_as_sent_by_a_person(dh: DeliveryHarness) -> None:
    draft = await dh.pending_draft()
    dh.smtp.script("DATA", DROP)
    assert (await dh.approve(draft)).ok
    await dh.run_jobs()
    outbox = await dh.outbox()
    assert outbox.status == OutboxStatus.UNKNOWN

    async with dh.db.transaction() as session:
        outcome = await decisions.mark_email_sent(
            session, outbox_id=outbox.id, actor=slack_actor("UFIN")
        )
    assert outcome.ok
    await dh.run_jobs()
    outbox = await dh.outbox()
    assert outbox.status == OutboxStatus.SENT and outbox.sent_at is not None
    assert outbox.marked_sent_by == "UFIN"
    assert dh.smtp.messages == [] and dh.smtp.commands.count("DATA") == 1
    case = await dh.case()
    assert case.emails_sent == 1 and case.last_email_at == outbox.sent_at
    async with dh.db.transaction() as session:  # neither retry nor a second mark now
        retry = await decisions.retry_unknown_email(
            session, outbox_id=outbox.id, actor=slack_actor("UFIN2")
        )
        mark = await decisions.mark_email_sent(
            session, outbox_id=outbox.id, actor=slack_actor("UFIN2")
        )
    assert not retry.ok and not mark.ok
    await dh.run_jobs()
    assert dh.smtp.messages == [] and (await dh.case()).emails_sent == 1


async def test_invoice_paid_between_approval_and_send_sends_nothing(dh: DeliveryHarness) -> None:
    draft = await dh.pending_draft()
    assert (await dh.approve(draft)).ok
    mark_paid(dh.stripe)  # paid in Stripe; the webhook has not arrived yet
    await dh.run_jobs()

    assert dh.smtp.commands == [] and dh.smtp.connection_count == 0
    outbox = await dh.outbox()
    assert outbox.status == OutboxStatus.CANCELLED and outbox.attempts == 0
    case = await dh.case()
    assert case.status == CaseStatus.PAID and case.amount_recovered == 4_900
    assert ("sync_case_cards", case.id) in dh.notifier.calls


async def test_pause_between_approval_and_send_waits_then_sends_once(
    dh: DeliveryHarness,
) -> None:
    draft = await dh.pending_draft()
    assert (await dh.approve(draft)).ok
    async with dh.db.transaction() as session:
        await pause_customer(
            session, customer_id="cus_std", until=None, reason="dispute", by=slack_actor("UFIN")
        )
    await dh.run_jobs()

    assert dh.smtp.commands == []
    outbox = await dh.outbox()
    assert outbox.status == OutboxStatus.WAITING and outbox.attempts == 0
    [job] = await dh.jobs("send_email")
    assert job.status == JobStatus.QUEUED and job.attempts == 0  # a wait, not a failure
    assert job.run_at > outbox.created_at and job.last_error == "customer paused"
    await dh.run_jobs()  # not due yet: still nothing
    assert dh.smtp.commands == []

    async with dh.db.transaction() as session:
        assert await resume_customer(session, customer_id="cus_std", by=slack_actor("UFIN")) == 1
    await dh.run_jobs()  # the resume made the held send due at once
    assert len(dh.smtp.messages) == 1 and dh.smtp.commands.count("DATA") == 1
    outbox = await dh.outbox()
    assert outbox.status == OutboxStatus.SENT and outbox.attempts == 1
    [job] = await dh.jobs("send_email")
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 1


async def test_temporary_failure_on_every_attempt_ends_failed_not_retrying(
    dh: DeliveryHarness,
) -> None:
    draft = await dh.pending_draft()
    assert (await dh.approve(draft)).ok
    [job] = await dh.jobs("send_email")
    dh.smtp.script("MAIL", *["421 4.3.2 Try again later"] * job.max_attempts)
    await dh.run_jobs()

    assert dh.smtp.messages == [] and dh.smtp.commands == ["MAIL"] * job.max_attempts
    [job] = await dh.jobs("send_email")
    assert job.status == JobStatus.SUCCEEDED and job.attempts == job.max_attempts
    outbox = await dh.outbox()
    assert outbox.status == OutboxStatus.FAILED and outbox.attempts == job.max_attempts
    assert "gave up" in (outbox.last_error or "") and "421" in (outbox.last_error or "")
    assert dh.notifier.calls[-1] == ("sync_approval_card", draft.id)  # the card says so

    async with dh.db.transaction() as session:  # a person presses Retry: it goes out once
        assert (
            await decisions.retry_unknown_email(
                session, outbox_id=outbox.id, actor=slack_actor("UFIN")
            )
        ).ok
    await dh.run_jobs()
    assert len(dh.smtp.messages) == 1
    assert (await dh.outbox()).status == OutboxStatus.SENT


async def test_stripe_unreachable_on_every_attempt_ends_failed_not_approved(
    dh: DeliveryHarness,
) -> None:
    draft = await dh.pending_draft()
    assert (await dh.approve(draft)).ok
    [job] = await dh.jobs("send_email")
    dh.stripe.fail_next(job.max_attempts, status=500, path_prefix="/v1/invoices/in_std")
    await dh.run_jobs()

    assert dh.smtp.connection_count == 0
    [job] = await dh.jobs("send_email")
    assert job.status == JobStatus.DEAD and job.attempts == job.max_attempts
    outbox = await dh.outbox()
    assert outbox.status == OutboxStatus.FAILED and outbox.attempts == 0
    assert "could not check the invoice" in (outbox.last_error or "")
    assert dh.notifier.calls[-1] == ("sync_approval_card", draft.id)
