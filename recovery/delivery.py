"""Send job: an approved email leaves exactly once, and only if the invoice is still unpaid.

Outbox states: approved → sending (the SMTP transaction is under way) → sent | retrying |
failed | unknown. A run that finds the row still `sending` was interrupted mid-transaction:
the outcome is unknown and a person decides (Retry / Mark as sent); it is never resent blindly.
"""

from __future__ import annotations

import logging

from recovery import audit
from recovery.cases import SETTLED_STATUS_BY_INVOICE_STATUS, close_case
from recovery.config import RecoveryConfig
from recovery.domain import InvoiceSnapshot, OutgoingEmail
from recovery.email_render import render_email, safe_pay_url
from recovery.notify import NotifyCall, enqueue_notify
from recovery.pauses import active_pause
from recovery.pay_links import InvoicePayLinks
from recovery.playbooks.case_events import emit_case_event
from recovery.protocols import (
    Billing,
    Mailer,
    PayLinks,
    PermanentMailError,
    TemporaryMailError,
    UnknownMailOutcome,
)
from storage.db import Database
from storage.models import (
    OPEN_CASE_STATUSES,
    Case,
    CustomerRow,
    Draft,
    OutboxEmail,
    OutboxStatus,
    utcnow,
)
from storage.queue import RetryLater

log = logging.getLogger("dunbot.delivery")

NO_PAY_LINK = (
    "held, not sent: the invoice has no secure pay link (Stripe's hosted_invoice_url is "
    "missing or not https://)"
)
SENDABLE = (OutboxStatus.APPROVED, OutboxStatus.RETRYING, OutboxStatus.WAITING)


def render_case_email(
    case: Case,
    *,
    subject: str,
    body: str,
    invoice: InvoiceSnapshot,
    config: RecoveryConfig,
    to_addr: str,
    message_id: str,
    pay_url: str | None,
) -> OutgoingEmail:
    """The customer email of a case: the draft's words framed with what the invoice still owes,
    its due date and `pay_url`, in the case's language, from the configured sender."""
    return render_email(
        body=body,
        subject=subject,
        customer_name=case.customer_name,
        amount_due=invoice.amount_remaining,
        currency=invoice.currency,
        due_date=invoice.due_date,
        pay_url=pay_url,
        locale=case.locale or "en",
        company_name=config.company_name,
        from_addr=config.email_from,
        to_addr=to_addr,
        reply_to=config.email_reply_to,
        message_id=message_id,
    )


class DeliveryService:
    def __init__(
        self,
        *,
        db: Database,
        billing: Billing,
        mailer: Mailer,
        config: RecoveryConfig,
        pay_links: PayLinks | None = None,
    ) -> None:
        self.db = db
        self.billing = billing
        self.mailer = mailer
        self.config = config
        self.pay_links = pay_links or InvoicePayLinks()

    async def send(self, outbox_id: int, *, final_attempt: bool = False) -> str:
        """Job body for JobKind.SEND_EMAIL.

        `final_attempt`: the job will not run again, so a temporary failure (SMTP 4xx,
        Stripe unreachable) marks the email `failed` for a person instead of `retrying`.
        """
        async with self.db.sessions() as session:
            outbox = await session.get(OutboxEmail, outbox_id)
            if outbox is None:
                return "missing"
            status = outbox.status
            case = await session.get(Case, outbox.case_id)
            assert case is not None
            invoice_id = case.invoice_id
        if status == OutboxStatus.SENDING:  # its own transaction, not one inside another
            return await self._interrupted(outbox_id)
        if status not in SENDABLE:
            return f"ignored_{status}"

        try:
            invoice = await self.billing.get_invoice(invoice_id)  # the truth, before sending
        except Exception as failure:
            if final_attempt:
                await self._give_up(outbox_id, f"could not check the invoice: {failure}")
            raise
        prepared = await self._prepare(outbox_id, invoice)
        if isinstance(prepared, RetryLater):
            raise prepared  # after the commit: the row says `waiting`, the card was queued
        if isinstance(prepared, str):
            return prepared
        draft_id, email = prepared
        return await self._deliver(outbox_id, draft_id, email, final_attempt=final_attempt)

    async def _prepare(
        self, outbox_id: int, invoice: InvoiceSnapshot
    ) -> tuple[int, OutgoingEmail] | RetryLater | str:
        """Decide with the fresh invoice: the email to send, a wait (paused), or an outcome."""
        async with self.db.transaction() as session:
            outbox = await session.get(OutboxEmail, outbox_id)
            assert outbox is not None
            case = await session.get(Case, outbox.case_id)
            draft = await session.get(Draft, outbox.draft_id)
            assert case is not None and draft is not None
            if outbox.status not in SENDABLE:
                return f"ignored_{outbox.status}"
            if not invoice.is_collectible:
                outbox.status = OutboxStatus.CANCELLED
                outbox.last_error = f"not sent: invoice is {invoice.status}"
                settled = SETTLED_STATUS_BY_INVOICE_STATUS.get(invoice.status)
                if settled is not None and case.status in OPEN_CASE_STATUSES:
                    await close_case(
                        session,
                        case,
                        settled,
                        actor="system:delivery",
                        amount_paid=invoice.amount_paid,
                    )
                else:
                    await enqueue_notify(session, NotifyCall.SYNC_APPROVAL_CARD, draft_id=draft.id)
                return f"cancelled_invoice_{invoice.status}"
            pause = await active_pause(session, case.customer_id)
            if pause is not None:
                if outbox.status != OutboxStatus.WAITING:
                    outbox.status = OutboxStatus.WAITING
                    outbox.last_error = "waiting: dunning is paused for this customer"
                    await enqueue_notify(session, NotifyCall.SYNC_APPROVAL_CARD, draft_id=draft.id)
                wait = self.config.pause_recheck_s
                if pause.until is not None:
                    wait = min(wait, max((pause.until - utcnow()).total_seconds(), 1.0))
                return RetryLater(wait, "customer paused")
            customer = await session.get(CustomerRow, case.customer_id)
            to_addr = case.customer_email or (customer.email if customer else None)
            if not to_addr:
                outbox.status = OutboxStatus.FAILED
                outbox.last_error = "no email address on the invoice or the customer"
                await enqueue_notify(session, NotifyCall.SYNC_APPROVAL_CARD, draft_id=draft.id)
                return "failed_no_address"
            pay_url = safe_pay_url(self.pay_links.pay_url(case_id=case.id, invoice=invoice))
            if pay_url is None:  # never an email without a way to pay
                outbox.status = OutboxStatus.FAILED
                outbox.last_error = NO_PAY_LINK
                await enqueue_notify(session, NotifyCall.SYNC_APPROVAL_CARD, draft_id=draft.id)
                return "held_no_pay_link"
            email = render_case_email(
                case,
                subject=draft.subject,
                body=draft.body,
                invoice=invoice,
                config=self.config,
                to_addr=to_addr,
                message_id=outbox.message_id,
                pay_url=pay_url,
            )
            outbox.status = OutboxStatus.SENDING
            outbox.attempts += 1
            outbox.to_addr, outbox.subject = email.to_addr, email.subject
            outbox.text_body, outbox.html_body = email.text_body, email.html_body
            return draft.id, email

    async def _deliver(
        self, outbox_id: int, draft_id: int, email: OutgoingEmail, *, final_attempt: bool
    ) -> str:
        error: Exception | None = None
        try:
            await self.mailer.send(email)
            status, note = OutboxStatus.SENT, None
        except TemporaryMailError as failure:
            if final_attempt:  # no retry will follow: a person decides (Retry)
                status, note = OutboxStatus.FAILED, f"gave up after repeated failures: {failure}"
            else:
                status, note, error = OutboxStatus.RETRYING, str(failure), failure
        except PermanentMailError as failure:
            status, note = OutboxStatus.FAILED, str(failure)
        except UnknownMailOutcome as failure:
            status, note = OutboxStatus.UNKNOWN, str(failure)
        async with self.db.transaction() as session:
            outbox = await session.get(OutboxEmail, outbox_id)
            assert outbox is not None
            case = await session.get(Case, outbox.case_id)
            assert case is not None
            outbox.status, outbox.last_error = status, note
            if status == OutboxStatus.SENT:
                outbox.sent_at = utcnow()
                case.emails_sent += 1
                case.last_email_at = outbox.sent_at
                await emit_case_event(
                    session,
                    name="email_sent",
                    case=case,
                    wanted=self.config.playbook_event_types,
                    occurrence=outbox_id,
                )
            await audit.record(
                session,
                actor="system:delivery",
                action=f"email_{status}",
                case_id=case.id,
                customer_id=case.customer_id,
                outbox_id=outbox_id,
                error=note,
            )
            await enqueue_notify(session, NotifyCall.SYNC_APPROVAL_CARD, draft_id=draft_id)
        if error is not None:
            raise error  # the job retries with backoff; the row says `retrying`
        return f"email_{status}"

    async def _give_up(self, outbox_id: int, note: str) -> None:
        """The job's last attempt failed before sending: `failed`, so a person can Retry."""
        async with self.db.transaction() as session:
            outbox = await session.get(OutboxEmail, outbox_id)
            if outbox is None or outbox.status not in SENDABLE:
                return
            outbox.status, outbox.last_error = OutboxStatus.FAILED, note
            case = await session.get(Case, outbox.case_id)
            await audit.record(
                session,
                actor="system:delivery",
                action="email_failed",
                case_id=outbox.case_id,
                customer_id=case.customer_id if case else None,
                outbox_id=outbox_id,
                error=note,
            )
            await enqueue_notify(session, NotifyCall.SYNC_APPROVAL_CARD, draft_id=outbox.draft_id)

    async def _interrupted(self, outbox_id: int) -> str:
        """A previous run died after the SMTP transaction began: we cannot know; ask a human."""
        async with self.db.transaction() as session:
            outbox = await session.get(OutboxEmail, outbox_id)
            assert outbox is not None
            if outbox.status != OutboxStatus.SENDING:
                return f"ignored_{outbox.status}"
            outbox.status = OutboxStatus.UNKNOWN
            outbox.last_error = "the sending process stopped mid-transaction; outcome unknown"
            case = await session.get(Case, outbox.case_id)
            await audit.record(
                session,
                actor="system:delivery",
                action="email_unknown",
                case_id=outbox.case_id,
                customer_id=case.customer_id if case else None,
                outbox_id=outbox_id,
            )
            await enqueue_notify(session, NotifyCall.SYNC_APPROVAL_CARD, draft_id=outbox.draft_id)
        return "email_unknown"
