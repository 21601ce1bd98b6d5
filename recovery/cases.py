"""The case state machine: a failed invoice from first failure until paid or given up.

Every entry point re-reads Stripe first (outside any transaction), then changes the database
in one transaction. A Stripe error therefore leaves nothing half-done: the job retries.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from recovery import audit
from recovery.config import RecoveryConfig
from recovery.domain import (
    CustomerSnapshot,
    DeclineInfo,
    InvoiceSnapshot,
    Segment,
    SegmentDecision,
)
from recovery.jobkinds import CASE_WORK_KINDS, JobKind, invoice_serial_key, priority_of
from recovery.notify import NotifyCall, enqueue_notify
from recovery.pauses import active_pause
from recovery.plans.state import plan_manages, stop_plan
from recovery.playbooks.case_events import emit_case_event
from recovery.protocols import Billing
from recovery.segmentation import decide_segment
from recovery.storable_text import storable_line
from recovery.task_delivery import queue_task_deliveries
from storage.db import Database
from storage.models import (
    OPEN_CASE_STATUSES,
    Case,
    CaseStatus,
    CustomerRow,
    Draft,
    DraftStatus,
    OutboxEmail,
    OutboxSms,
    OutboxStatus,
    SmsStatus,
    TaskStatus,
    VipTask,
    utcnow,
)
from storage.queue import PermanentJobError, cancel_jobs, enqueue

log = logging.getLogger("dunbot.recovery")

SETTLED_STATUS_BY_INVOICE_STATUS = {
    "paid": CaseStatus.PAID,
    "void": CaseStatus.VOIDED,
    "uncollectible": CaseStatus.UNCOLLECTIBLE,
}
SETTLED_STATUS_BY_EVENT = {
    "invoice.payment_succeeded": CaseStatus.PAID,
    "invoice.paid": CaseStatus.PAID,
    "invoice.voided": CaseStatus.VOIDED,
    "invoice.marked_uncollectible": CaseStatus.UNCOLLECTIBLE,
}


# Runs inside the transaction that applied an event, with its result (e.g. marks the event
# processed and queues its follow-up jobs in the same commit).
InSameTransaction = Callable[[AsyncSession, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class FailureFacts:
    """Everything read from Stripe about one failure, before any write."""

    invoice: InvoiceSnapshot
    customer: CustomerSnapshot
    ltv_by_currency: dict[str, int]
    ltv_is_fresh: bool
    decline: DeclineInfo


class CaseEngine:
    """Handles failures and settlements of invoices."""

    def __init__(self, *, db: Database, billing: Billing, config: RecoveryConfig) -> None:
        self.db = db
        self.billing = billing
        self.config = config
        self.thresholds = config.vip_thresholds

    async def on_payment_failed(
        self, invoice_id: str, *, actor: str, then: InSameTransaction | None = None
    ) -> str:
        """A failed payment (or a re-evaluation): act on what Stripe says now. `then` runs in
        the transaction that applies it (not at all when nothing is written)."""
        invoice = await self.billing.get_invoice(invoice_id)
        if not invoice.is_collectible:
            settled = SETTLED_STATUS_BY_INVOICE_STATUS.get(invoice.status)
            if settled is None:
                return f"ignored_invoice_{invoice.status}"
            return await self.settle(invoice_id, settled, actor=actor, invoice=invoice, then=then)
        facts = await self._read_failure_facts(invoice)
        async with self.db.transaction() as session:
            result = await self._apply_failure(session, facts, actor=actor)
            if then is not None:
                await then(session, result)
            return result

    async def _read_failure_facts(self, invoice: InvoiceSnapshot) -> FailureFacts:
        if not invoice.customer_id:
            raise PermanentJobError(f"invoice {invoice.id} has no customer in Stripe")
        customer = invoice.customer or await self.billing.get_customer(invoice.customer_id)
        ltv = await self._cached_ltv(invoice.customer_id)
        is_fresh = ltv is None
        if ltv is None:
            ltv = await self.billing.lifetime_value(invoice.customer_id)
        decline = invoice.decline or await self.billing.decline_info(invoice)
        return FailureFacts(
            invoice=invoice,
            customer=customer,
            ltv_by_currency=ltv,
            ltv_is_fresh=is_fresh,
            decline=decline,
        )

    async def _cached_ltv(self, customer_id: str) -> dict[str, int] | None:
        async with self.db.sessions() as session:
            row = (
                await session.execute(
                    select(CustomerRow.ltv_by_currency, CustomerRow.ltv_refreshed_at).where(
                        CustomerRow.id == customer_id
                    )
                )
            ).first()
        if row is None or row.ltv_refreshed_at is None or row.ltv_by_currency is None:
            return None
        if utcnow() - row.ltv_refreshed_at > timedelta(seconds=self.config.ltv_cache_s):
            return None
        return {k: int(v) for k, v in row.ltv_by_currency.items()}

    async def _apply_failure(
        self, session: AsyncSession, facts: FailureFacts, *, actor: str
    ) -> str:
        invoice, customer = facts.invoice, facts.customer
        await upsert_customer(
            session, customer, ltv_by_currency=facts.ltv_by_currency if facts.ltv_is_fresh else None
        )
        case = await session.scalar(select(Case).where(Case.invoice_id == invoice.id))
        if case is not None and case.status not in OPEN_CASE_STATUSES:
            return "ignored_case_resolved"
        decision = decide_segment(
            ltv_by_currency=facts.ltv_by_currency,
            invoice=invoice,
            customer=customer,
            thresholds=self.thresholds,
        )
        is_new = case is None
        if case is None:
            case = Case(
                invoice_id=invoice.id,
                customer_id=invoice.customer_id,
                currency=invoice.currency,
                amount_due=invoice.amount_due,
                amount_remaining=invoice.amount_remaining,
            )
            session.add(case)
        refresh_case(case, facts, decision)
        await session.flush()
        if is_new:
            await audit.record(
                session,
                actor=actor,
                action="case_opened",
                case_id=case.id,
                customer_id=case.customer_id,
                segment=decision.segment,
                reasons=decision.reasons,
            )
            await emit_case_event(
                session, name="opened", case=case, wanted=self.config.playbook_event_types
            )
            if self.config.dunning_plans:
                await enqueue(
                    session,
                    kind=JobKind.PLAN_START,
                    payload={"case_id": case.id},
                    dedupe_key=f"plan_start:{case.id}",
                    serial_key=invoice_serial_key(case.invoice_id),
                    priority=priority_of(JobKind.PLAN_START),
                )
        if invoice.attempt_count <= case.handled_attempt:
            return "ignored_attempt_already_handled"

        pause = await active_pause(session, case.customer_id)
        if pause is not None:
            case.status = CaseStatus.PAUSED
            await audit.record(
                session,
                actor=actor,
                action="failure_held_paused",
                case_id=case.id,
                customer_id=case.customer_id,
                attempt=invoice.attempt_count,
            )
            return "held_paused"
        if case.status == CaseStatus.PAUSED:
            case.status = CaseStatus.OPEN
        case.handled_attempt = invoice.attempt_count
        if not is_new and await plan_manages(session, case.id):
            return "plan_managed"  # the plan's retries decide the emails (recovery/plans/)
        if decision.segment == Segment.VIP:
            return await self._open_vip_task(session, case, actor=actor)
        return await self._plan_email_round(session, case, actor=actor)

    async def _open_vip_task(self, session: AsyncSession, case: Case, *, actor: str) -> str:
        task = await session.scalar(select(VipTask).where(VipTask.case_id == case.id))
        if task is None:
            task = VipTask(case_id=case.id)
            session.add(task)
            await session.flush()
            await audit.record(
                session,
                actor=actor,
                action="vip_task_opened",
                case_id=case.id,
                customer_id=case.customer_id,
            )
            await enqueue(
                session,
                kind=JobKind.VIP_CLAIM_REMINDER,
                payload={"task_id": task.id},
                dedupe_key=f"vip_reminder:{task.id}",
                serial_key=invoice_serial_key(case.invoice_id),
                delay_s=self.config.vip_claim_sla_s,
            )
            await queue_task_deliveries(session, task_id=task.id, targets=self.config.task_targets)
        elif task.status in (TaskStatus.DONE, TaskStatus.RESOLVED):
            task.status = TaskStatus.OPEN
            task.owner = None
            task.version += 1
        await enqueue_notify(session, NotifyCall.SYNC_VIP_TASK_CARD, task_id=task.id)
        return "vip_task"

    async def _plan_email_round(self, session: AsyncSession, case: Case, *, actor: str) -> str:
        """First failure → draft now; later failures → a follow-up, spaced and capped."""
        pending = await session.scalar(
            select(Draft.id).where(Draft.case_id == case.id, Draft.status == DraftStatus.PENDING)
        )
        if pending is not None:
            await enqueue_notify(session, NotifyCall.SYNC_APPROVAL_CARD, draft_id=pending)
            return "draft_already_pending"
        if case.round > 0 and case.emails_sent < case.round:
            # The current round's email is approved or on its way; don't stack another.
            return "round_in_progress"
        if case.emails_sent >= self.config.max_emails_per_invoice:
            if case.status != CaseStatus.ESCALATED:
                case.status = CaseStatus.ESCALATED
                note = (
                    f"{case.emails_sent} email{'' if case.emails_sent == 1 else 's'} sent for "
                    "this invoice (the maximum); "
                    "it failed again. Please follow up personally."
                )
                await audit.record(
                    session,
                    actor=actor,
                    action="case_escalated",
                    case_id=case.id,
                    customer_id=case.customer_id,
                    note=note,
                )
                await emit_case_event(
                    session, name="escalated", case=case, wanted=self.config.playbook_event_types
                )
                await enqueue_notify(
                    session,
                    NotifyCall.ESCALATE,
                    case_id=case.id,
                    note=note,
                    dedupe_key=f"escalate:{case.id}",
                )
            return "escalated"
        case.round += 1
        run_at = None
        if case.last_email_at is not None:
            earliest = case.last_email_at + timedelta(days=self.config.min_days_between_emails)
            run_at = earliest if earliest > utcnow() else None
        await enqueue(
            session,
            kind=JobKind.DRAFT_EMAIL,
            payload={"case_id": case.id, "round": case.round},
            dedupe_key=f"draft:{case.id}:{case.round}",
            serial_key=invoice_serial_key(case.invoice_id),
            run_at=run_at,
            priority=priority_of(JobKind.DRAFT_EMAIL),  # after cards, before bookkeeping
        )
        await audit.record(
            session,
            actor=actor,
            action="email_round_planned",
            case_id=case.id,
            customer_id=case.customer_id,
            round=case.round,
            not_before=run_at.isoformat() if run_at else None,
        )
        return "draft_planned" if run_at is None else "follow_up_scheduled"

    async def settle(
        self,
        invoice_id: str,
        status: CaseStatus,
        *,
        actor: str,
        invoice: InvoiceSnapshot | None = None,
        then: InSameTransaction | None = None,
    ) -> str:
        """Paid, voided or uncollectible: close the case and stop everything pending.
        `then` runs in the same transaction, with the result."""
        async with self.db.transaction() as session:
            result = await self._settle(session, invoice_id, status, actor=actor, invoice=invoice)
            if then is not None:
                await then(session, result)
            return result

    async def _settle(
        self,
        session: AsyncSession,
        invoice_id: str,
        status: CaseStatus,
        *,
        actor: str,
        invoice: InvoiceSnapshot | None,
    ) -> str:
        case = await session.scalar(select(Case).where(Case.invoice_id == invoice_id))
        if status == CaseStatus.PAID and invoice is not None:
            await invalidate_ltv(session, invoice.customer_id)
        if case is None:
            return "no_case"
        if status == CaseStatus.PAID:
            await invalidate_ltv(session, case.customer_id)
        if case.status not in OPEN_CASE_STATUSES:
            return "already_settled"
        await close_case(
            session,
            case,
            status,
            actor=actor,
            amount_paid=invoice.amount_paid if invoice else None,
        )
        if status == CaseStatus.PAID:
            await emit_case_event(
                session, name="paid", case=case, wanted=self.config.playbook_event_types
            )
        return f"case_{status}"

    async def reevaluate(self, case_id: int, *, actor: str) -> str:
        """Resume or pause expiry: look at the case again from Stripe."""
        async with self.db.sessions() as session:
            case = await session.get(Case, case_id)
        if case is None or case.status not in OPEN_CASE_STATUSES:
            return "ignored"
        return await self.on_payment_failed(case.invoice_id, actor=actor)


def refresh_case(case: Case, facts: FailureFacts, decision: SegmentDecision) -> None:
    invoice, customer, decline = facts.invoice, facts.customer, facts.decline
    case.invoice_number = invoice.number
    case.currency = invoice.currency
    case.amount_due = invoice.amount_due
    case.amount_remaining = invoice.amount_remaining
    case.attempt_count = max(case.attempt_count or 0, invoice.attempt_count)
    case.next_payment_attempt = invoice.next_payment_attempt
    case.due_date = invoice.due_date
    case.hosted_invoice_url = invoice.hosted_invoice_url
    case.customer_email = invoice.customer_email or customer.email
    case.customer_name = invoice.customer_name or customer.name
    case.locale = customer.locale
    case.decline_category = decline.category
    case.decline_code = decline.decline_code
    case.segment = decision.segment
    case.segment_reasons = list(decision.reasons)
    case.ltv_by_currency = dict(decision.ltv_by_currency or facts.ltv_by_currency)


async def close_case(
    session: AsyncSession,
    case: Case,
    status: CaseStatus,
    *,
    actor: str,
    amount_paid: int | None = None,
) -> None:
    """Resolve a case: cancel its queued work, void drafts and emails, update every card."""
    case.status = status
    case.resolved_at = utcnow()
    if status == CaseStatus.PAID:
        case.amount_recovered = amount_paid if amount_paid else case.amount_remaining
        case.amount_remaining = 0
    cancelled = await cancel_jobs(
        session, serial_key=invoice_serial_key(case.invoice_id), kinds=list(CASE_WORK_KINDS)
    )
    await stop_plan(session, case, status, actor=actor)
    await session.execute(
        update(Draft)
        .where(Draft.case_id == case.id, Draft.status == DraftStatus.PENDING)
        .values(status=DraftStatus.CANCELLED, version=Draft.version + 1)
    )
    await session.execute(
        update(OutboxEmail)
        .where(
            OutboxEmail.case_id == case.id,
            OutboxEmail.status.in_(
                [OutboxStatus.APPROVED, OutboxStatus.RETRYING, OutboxStatus.WAITING]
            ),
        )
        .values(status=OutboxStatus.CANCELLED, last_error=f"invoice {status}")
    )
    await session.execute(
        update(OutboxSms)
        .where(
            OutboxSms.case_id == case.id,
            OutboxSms.status.in_([SmsStatus.APPROVED, SmsStatus.HELD, SmsStatus.RETRYING]),
        )
        .values(status=SmsStatus.CANCELLED, last_error=f"invoice {status}")
    )
    await session.execute(
        update(VipTask)
        .where(
            VipTask.case_id == case.id, VipTask.status.in_([TaskStatus.OPEN, TaskStatus.CLAIMED])
        )
        .values(status=TaskStatus.RESOLVED, version=VipTask.version + 1)
    )
    await audit.record(
        session,
        actor=actor,
        action=f"case_{status}",
        case_id=case.id,
        customer_id=case.customer_id,
        cancelled_jobs=cancelled,
    )
    await enqueue_notify(session, NotifyCall.SYNC_CASE_CARDS, case_id=case.id)


async def upsert_customer(
    session: AsyncSession,
    customer: CustomerSnapshot,
    *,
    ltv_by_currency: dict[str, int] | None = None,
) -> CustomerRow:
    """Store what Stripe says of a customer (and a freshly computed LTV, if given)."""
    row = await session.get(CustomerRow, customer.id)
    if row is None:
        row = CustomerRow(id=customer.id)
        session.add(row)
    row.name = customer.name
    row.email = customer.email
    row.locale = customer.locale
    row.tier_override = storable_line(customer.metadata.get("dunbot_tier"), max_chars=20)
    row.deleted = customer.deleted
    if ltv_by_currency is not None:
        row.ltv_by_currency = dict(ltv_by_currency)
        row.ltv_refreshed_at = utcnow()
    return row


async def invalidate_ltv(session: AsyncSession, customer_id: str) -> None:
    """A payment changes the LTV: recompute it from Stripe next time it is needed."""
    row = await session.get(CustomerRow, customer_id)
    if row is not None:
        row.ltv_refreshed_at = None


async def close_customer_cases(session: AsyncSession, *, customer_id: str, actor: str) -> int:
    """customer.deleted: close every open case of the customer."""
    cases = (
        await session.scalars(
            select(Case).where(Case.customer_id == customer_id, Case.status.in_(OPEN_CASE_STATUSES))
        )
    ).all()
    for case in cases:
        await close_case(session, case, CaseStatus.CLOSED, actor=actor)
    return len(cases)
