"""Send-SMS job: an approved SMS leaves at most once, only to a consenting customer with a
valid number who has not replied STOP, never between 21:00 and 08:00 their time, and only
while the invoice is unpaid.

Outbox states (`storage.models.SmsStatus`): approved → held (quiet hours; the job is due in
the morning) → sending → sent (Twilio's SID stored) | retrying (429/5xx) | failed (invalid
number, opted out, …) | unknown; skipped (no consent/number) and cancelled (paid). A run that
finds the row still `sending` was interrupted between the API call and the record: `unknown`
for a person, never a blind resend.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prompts.sms_texts import sms_variants
from recovery import audit
from recovery.config import RecoveryConfig
from recovery.domain import CustomerSnapshot, InvoiceSnapshot
from recovery.email_render import email_locale
from recovery.money import format_amount
from recovery.notify import NotifyCall, enqueue_notify
from recovery.pay_links import InvoicePayLinks
from recovery.protocols import (
    Billing,
    PayLinks,
    PermanentSmsError,
    SmsSender,
    TemporarySmsError,
    UnknownSmsOutcome,
)
from recovery.sms import customer_zone, fits_one_sms, quiet_until, sms_eligibility
from storage.db import Database
from storage.models import Case, OutboxSms, SmsOptOut, SmsStatus, utcnow
from storage.queue import RetryLater

log = logging.getLogger("dunbot.sms")

SENDABLE = (SmsStatus.APPROVED, SmsStatus.HELD, SmsStatus.RETRYING)
OPTED_OUT_CODE = "21610"  # Twilio: the recipient replied STOP


def sms_text(*, invoice: InvoiceSnapshot, locale: str | None, company: str, url: str) -> str | None:
    """The first SMS variant that fits one message with the pay link, or None."""
    amount = format_amount(invoice.amount_remaining, invoice.currency, email_locale(locale))
    amount = amount.replace("\u00a0", " ").replace("\u202f", " ")
    for text in sms_variants(locale=locale, company=company, amount=amount, url=url):
        if fits_one_sms(text):
            return text
    return None


class SmsDeliveryService:
    """Job body for JobKind.SEND_SMS."""

    def __init__(
        self,
        *,
        db: Database,
        billing: Billing,
        sender: SmsSender | None,
        config: RecoveryConfig,
        pay_links: PayLinks | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.billing = billing
        self.sender = sender
        self.config = config
        self.pay_links = pay_links or InvoicePayLinks()
        self.clock = clock

    async def send(self, sms_id: int, *, final_attempt: bool = False) -> str:
        """Send the SMS if everything still allows it; the outcome in a word."""
        async with self.db.sessions() as session:
            row = await session.get(OutboxSms, sms_id)
            if row is None:
                return "missing"
            status = row.status
            case = await session.get(Case, row.case_id)
            assert case is not None
            invoice_id, customer_id = case.invoice_id, case.customer_id
        if status == SmsStatus.SENDING:
            return await self._finish(
                sms_id, SmsStatus.UNKNOWN, "interrupted between the Twilio call and its record"
            )
        if status not in SENDABLE:
            return f"ignored_{status}"
        if self.sender is None:
            return await self._finish(sms_id, SmsStatus.FAILED, "SMS is not configured (TWILIO_*)")
        invoice = await self.billing.get_invoice(invoice_id)  # the truth, before sending
        customer = await self.billing.get_customer(customer_id)
        prepared = await self._prepare(sms_id, invoice, customer)
        if isinstance(prepared, RetryLater):
            raise prepared
        if isinstance(prepared, str):
            return prepared
        to, body = prepared
        return await self._deliver(sms_id, to, body, final_attempt=final_attempt)

    async def _prepare(
        self, sms_id: int, invoice: InvoiceSnapshot, customer: CustomerSnapshot
    ) -> tuple[str, str] | RetryLater | str:
        """With fresh facts: (number, text) to send now, a hold until morning, or an outcome."""
        async with self.db.transaction() as session:
            row = await session.get(OutboxSms, sms_id)
            assert row is not None
            if row.status not in SENDABLE:
                return f"ignored_{row.status}"
            case = await session.get(Case, row.case_id)
            assert case is not None
            if not invoice.is_collectible:
                await self._set(session, row, SmsStatus.CANCELLED, f"invoice is {invoice.status}")
                return "cancelled"
            opted_out = set(
                (await session.scalars(select(SmsOptOut.phone))).all()
            )  # a small table: numbers that replied STOP
            eligible = sms_eligibility(
                customer,
                consent_field=self.config.sms_consent_field,
                opted_out=frozenset(opted_out),
            )
            if eligible.phone is None:
                await self._set(session, row, SmsStatus.SKIPPED, eligible.reason)
                return "skipped"
            zone = customer_zone(customer, default=self.config.company_timezone)
            until = quiet_until(self.clock(), zone)
            if until is not None:
                if row.status != SmsStatus.HELD:
                    row.held_until = until
                    await self._set(session, row, SmsStatus.HELD, None)
                delay = max((until - self.clock()).total_seconds(), 1.0)
                return RetryLater(delay, f"quiet hours in {zone.key} until 08:00")
            url = self.pay_links.pay_url(case_id=case.id, invoice=invoice)
            text = (
                sms_text(invoice=invoice, locale=case.locale, company=self.config.company_name,
                         url=url)
                if url
                else None
            )  # fmt: skip
            if text is None:
                reason = "no pay link" if not url else "the text with the pay link exceeds one SMS"
                await self._set(session, row, SmsStatus.FAILED, reason)
                return "failed_too_long"
            row.status = SmsStatus.SENDING
            row.attempts += 1
            row.to_phone, row.body = eligible.phone, text
            return eligible.phone, text

    async def _deliver(self, sms_id: int, to: str, body: str, *, final_attempt: bool) -> str:
        assert self.sender is not None
        try:
            sid = await self.sender.send(to=to, body=body)
        except TemporarySmsError as error:
            status = SmsStatus.FAILED if final_attempt else SmsStatus.RETRYING
            await self._finish(sms_id, status, str(error))
            if final_attempt:
                return "failed"
            raise
        except PermanentSmsError as error:
            await self._finish(sms_id, SmsStatus.FAILED, str(error), opted_out=to
                               if OPTED_OUT_CODE in str(error) else None)  # fmt: skip
            return "failed"
        except UnknownSmsOutcome as error:
            await self._finish(sms_id, SmsStatus.UNKNOWN, str(error))
            return "unknown"
        async with self.db.transaction() as session:
            row = await session.get(OutboxSms, sms_id)
            assert row is not None
            row.twilio_sid, row.sent_at = sid, utcnow()
            await self._set(session, row, SmsStatus.SENT, None)
        return "sent"

    async def _finish(
        self, sms_id: int, status: SmsStatus, error: str | None, *, opted_out: str | None = None
    ) -> str:
        async with self.db.transaction() as session:
            row = await session.get(OutboxSms, sms_id)
            assert row is not None
            await self._set(session, row, status, error)
            if opted_out and await session.get(SmsOptOut, opted_out) is None:
                session.add(SmsOptOut(phone=opted_out, keyword="twilio:21610"))
        return str(status)

    async def _set(
        self, session: AsyncSession, row: OutboxSms, status: SmsStatus, error: str | None
    ) -> None:
        """Change the state, audit it and refresh the approval card."""
        row.status, row.last_error = status, error
        case = await session.get(Case, row.case_id)
        await audit.record(
            session,
            actor="system:sms",
            action=f"sms_{status}",
            case_id=row.case_id,
            customer_id=case.customer_id if case else None,
            sms_id=row.id,
            error=error,
        )
        await enqueue_notify(session, NotifyCall.SYNC_APPROVAL_CARD, draft_id=row.draft_id)
