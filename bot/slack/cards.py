"""Load what a card shows from the database and fill the builders' view dataclasses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.slack.batch_cards import batch_view
from bot.slack.blocks.batch import group_text, total_text
from bot.slack.metadata import CardKind, CardRef
from bot.slack.views import (
    ApprovalCardView,
    ApprovalStatus,
    HomeBatchRow,
    HomeCaseRow,
    HomeView,
    OwnedCustomerRow,
    PausedCustomerRow,
    VipTaskCardView,
    VipTaskStatus,
)
from recovery.attempts import attempt_stage
from recovery.customers.rules import owners_of
from recovery.customers.show import money_text
from recovery.decline import describe_decline
from recovery.domain import DeclineCategory
from recovery.money import format_amount
from recovery.proposals import invoice_of_case
from recovery.sms_delivery import sms_text
from storage.models import (
    BatchStatus,
    Case,
    CaseStatus,
    CustomerOwner,
    CustomerProfile,
    CustomerRow,
    Draft,
    DraftStatus,
    OutboxEmail,
    OutboxSms,
    OutboxStatus,
    Pause,
    ReviewBatch,
    ReviewBatchDraft,
    SlackMessage,
    TaskDelivery,
    TaskStatus,
    VipTask,
    utcnow,
)

_CANCELLED_BY_CASE = {
    CaseStatus.PAID: ApprovalStatus.CANCELLED_PAID,
    CaseStatus.VOIDED: ApprovalStatus.CANCELLED_VOIDED,
    CaseStatus.UNCOLLECTIBLE: ApprovalStatus.CANCELLED_UNCOLLECTIBLE,
    CaseStatus.CLOSED: ApprovalStatus.CANCELLED_VOIDED,
}
_BY_OUTBOX = {
    OutboxStatus.APPROVED: ApprovalStatus.APPROVED,
    OutboxStatus.WAITING: ApprovalStatus.WAITING,
    OutboxStatus.RETRYING: ApprovalStatus.APPROVED,
    OutboxStatus.SENDING: ApprovalStatus.SENDING,
    OutboxStatus.SENT: ApprovalStatus.SENT,
    OutboxStatus.FAILED: ApprovalStatus.FAILED,
    OutboxStatus.UNKNOWN: ApprovalStatus.UNKNOWN,
}
_VIP_RESOLVED = {
    CaseStatus.PAID: VipTaskStatus.RESOLVED_PAID,
    CaseStatus.VOIDED: VipTaskStatus.RESOLVED_VOIDED,
    CaseStatus.UNCOLLECTIBLE: VipTaskStatus.RESOLVED_UNCOLLECTIBLE,
    CaseStatus.CLOSED: VipTaskStatus.RESOLVED_VOIDED,
}


def amount_text(case: Case) -> str:
    return format_amount(case.amount_remaining or case.amount_due, case.currency)


def ltv_text(case: Case) -> str | None:
    if not case.ltv_by_currency:
        return None
    parts = [format_amount(int(v), c) for c, v in sorted(case.ltv_by_currency.items())]
    return " + ".join(parts) + " lifetime"


def decline_words(case: Case) -> str:
    return describe_decline(DeclineCategory(case.decline_category or DeclineCategory.UNKNOWN))


def approval_status(case: Case, draft: Draft, outbox: OutboxEmail | None) -> ApprovalStatus:
    """One status for the card from the draft, its email and its case."""
    if outbox is not None and outbox.status in _BY_OUTBOX:
        return _BY_OUTBOX[OutboxStatus(outbox.status)]
    if draft.status == DraftStatus.PENDING:
        return ApprovalStatus.PENDING
    if draft.status == DraftStatus.REJECTED:
        return ApprovalStatus.REJECTED
    if draft.status == DraftStatus.SUPERSEDED:
        return ApprovalStatus.SUPERSEDED
    return _CANCELLED_BY_CASE.get(CaseStatus(case.status), ApprovalStatus.SUPERSEDED)


async def sms_preview(session: AsyncSession, *, case_id: int, company_name: str) -> str | None:
    """The template SMS for the case as it stands (the pay link as Stripe last gave it)."""
    case = await session.get(Case, case_id)
    if case is None or not case.hosted_invoice_url:
        return None
    return sms_text(
        invoice=invoice_of_case(case),
        locale=case.locale,
        company=company_name,
        url=case.hosted_invoice_url,
    )


def held_note(until: datetime | None) -> str | None:
    """'until 07:00 UTC' for an SMS held by quiet hours."""
    return f"until {until:%Y-%m-%d %H:%M} UTC (quiet hours)" if until else None


async def approval_view(session: AsyncSession, draft_id: int) -> ApprovalCardView | None:
    draft = await session.get(Draft, draft_id)
    if draft is None:
        return None
    case = await session.get(Case, draft.case_id)
    assert case is not None
    outbox = await session.scalar(select(OutboxEmail).where(OutboxEmail.draft_id == draft.id))
    sms = await session.scalar(select(OutboxSms).where(OutboxSms.draft_id == draft.id))
    status = approval_status(case, draft, outbox)
    decided_by = draft.decided_by
    if outbox is not None and outbox.status == OutboxStatus.SENT and outbox.marked_sent_by:
        decided_by = outbox.marked_sent_by
    return ApprovalCardView(
        case_id=case.id,
        draft_id=draft.id,
        version=draft.version,
        invoice_id=case.invoice_id,
        invoice_number=case.invoice_number,
        customer_name=case.customer_name,
        customer_email=case.customer_email,
        amount_text=amount_text(case),
        attempt_number=max(case.attempt_count, 1),
        stage=attempt_stage(invoice_of_case(case)),
        decline_reason=decline_words(case),
        ltv_text=ltv_text(case),
        segment_reasons=list(case.segment_reasons or []),
        subject=draft.subject,
        body=draft.body,
        source="ai" if draft.source == "ai" else "template",
        provider=draft.provider,
        model=draft.model,
        fallback_reason=draft.fallback_reason,
        guardrail_notes=list(draft.guardrail_notes or []),
        edited_by=draft.edited_by,
        status=status,
        decided_by=draft.decided_by if status != ApprovalStatus.SENT else decided_by,
        decided_at=draft.decided_at,
        reject_reason=draft.reject_reason,
        send_error=outbox.last_error
        if outbox and status in (ApprovalStatus.FAILED, ApprovalStatus.UNKNOWN)
        else None,
        sent_at=outbox.sent_at if outbox else None,
        hosted_invoice_url=case.hosted_invoice_url,
        invoice_paid=case.status == CaseStatus.PAID,
        sms_status=sms.status if sms else None,
        sms_note=(sms.last_error if sms.status != "held" else held_note(sms.held_until))
        if sms
        else None,
    )


async def vip_view(
    session: AsyncSession, task_id: int, *, livemode: bool, stripe_dashboard: bool = True
) -> VipTaskCardView | None:
    task = await session.get(VipTask, task_id)
    if task is None:
        return None
    case = await session.get(Case, task.case_id)
    assert case is not None
    status = (
        VipTaskStatus(task.status)
        if task.status != TaskStatus.RESOLVED
        else (_VIP_RESOLVED.get(CaseStatus(case.status), VipTaskStatus.RESOLVED_PAID))
    )
    return VipTaskCardView(
        task_id=task.id,
        version=task.version,
        invoice_id=case.invoice_id,
        invoice_number=case.invoice_number,
        customer_id=case.customer_id,
        customer_name=case.customer_name,
        customer_email=case.customer_email,
        amount_text=amount_text(case),
        ltv_text=ltv_text(case),
        decline_reason=decline_words(case),
        segment_reasons=list(case.segment_reasons or []),
        livemode=livemode,
        stripe_dashboard=stripe_dashboard,
        status=status,
        owner_id=task.owner,
        account_owners=await owners_of(session, case.customer_id),
        claimed_at=task.claimed_at,
        done_at=task.done_at,
        note=task.note,
        invoice_paid=case.status == CaseStatus.PAID,
        deliveries=[
            (row.target, row.status)
            for row in await session.scalars(
                select(TaskDelivery)
                .where(TaskDelivery.task_id == task.id)
                .order_by(TaskDelivery.id)
            )
        ],
    )


async def card_view(
    session: AsyncSession, card: CardRef, *, livemode: bool, stripe_dashboard: bool = True
) -> ApprovalCardView | VipTaskCardView | None:
    """What the card `card` names shows now (None when its draft or task is gone)."""
    if card.kind is CardKind.DRAFT:
        return await approval_view(session, card.id)
    return await vip_view(session, card.id, livemode=livemode, stripe_dashboard=stripe_dashboard)


async def home_view(
    session: AsyncSession, *, user_id: str, can_approve: bool, can_claim: bool
) -> HomeView:
    """Open approvals, the viewer's VIP tasks (and unclaimed ones), paused customers."""
    in_open_batch = (
        select(ReviewBatchDraft.draft_id)
        .join(ReviewBatch, ReviewBatch.id == ReviewBatchDraft.batch_id)
        .where(ReviewBatch.status == BatchStatus.OPEN)
    )
    pending = (
        await session.execute(
            select(Draft, Case)
            .join(Case, Case.id == Draft.case_id)
            .where(Draft.status == DraftStatus.PENDING, Draft.id.not_in(in_open_batch))
            .order_by(Draft.created_at)
            .limit(20)
        )
    ).all()
    tasks = (
        await session.execute(
            select(VipTask, Case)
            .join(Case, Case.id == VipTask.case_id)
            .where(VipTask.status.in_([TaskStatus.OPEN, TaskStatus.CLAIMED]))
            .order_by(VipTask.created_at)
            .limit(40)
        )
    ).all()
    pauses = (await session.scalars(select(Pause).order_by(Pause.created_at))).all()
    customers = {
        c.id: c
        for c in (
            await session.scalars(
                select(CustomerRow).where(CustomerRow.id.in_([p.customer_id for p in pauses]))
            )
        ).all()
    }
    queue: list[HomeCaseRow | HomeBatchRow] = [
        HomeCaseRow(
            invoice_id=case.invoice_id,
            invoice_number=case.invoice_number,
            customer_name=case.customer_name,
            customer_email=case.customer_email,
            amount_text=amount_text(case),
            status_text="waiting for approval",
            opened_at=draft.created_at,
        )
        for draft, case in pending
    ]
    queue += await open_batch_rows(session)
    queue.sort(key=lambda row: row.opened_at or utcnow())
    return HomeView(
        user_id=user_id,
        can_approve=can_approve,
        can_claim=can_claim,
        pending_approvals=queue,
        open_vip_tasks=[
            HomeCaseRow(
                invoice_id=case.invoice_id,
                invoice_number=case.invoice_number,
                customer_name=case.customer_name,
                customer_email=case.customer_email,
                amount_text=amount_text(case),
                status_text="unclaimed" if task.owner is None else f"claimed by <@{task.owner}>",
                opened_at=case.created_at,
            )
            for task, case in tasks
            if task.owner in (None, user_id)
        ],
        paused_customers=[
            PausedCustomerRow(
                customer_id=p.customer_id,
                customer_name=customers[p.customer_id].name if p.customer_id in customers else None,
                customer_email=customers[p.customer_id].email
                if p.customer_id in customers
                else None,
                until=p.until,
                reason=p.reason,
                paused_by=p.paused_by.removeprefix("slack:"),
            )
            for p in pauses
        ],
        my_customers=await owned_customers(session, user_id=user_id),
    )


async def open_batch_rows(session: AsyncSession) -> list[HomeBatchRow]:
    """The batches waiting for a decision, oldest first, with what Approve all would approve."""
    batches = (
        await session.execute(
            select(ReviewBatch, SlackMessage.channel)
            .outerjoin(
                SlackMessage,
                (SlackMessage.card_kind == CardKind.BATCH.message_kind)
                & (SlackMessage.subject_id == ReviewBatch.id),
            )
            .where(ReviewBatch.status == BatchStatus.OPEN)
            .order_by(ReviewBatch.created_at)
            .limit(20)
        )
    ).all()
    rows = []
    for batch, channel in batches:
        view = await batch_view(session, batch.id)
        if view is None or not view.pending:
            continue
        rows.append(
            HomeBatchRow(
                batch_id=batch.id,
                count=len(view.pending),
                total_text=total_text(view.pending, view.currency),
                group_text=group_text(view),
                channel=channel,
                opened_at=batch.created_at,
            )
        )
    return rows


async def owned_customers(session: AsyncSession, *, user_id: str) -> list[OwnedCustomerRow]:
    """The customers `user_id` owns, with their rating and outstanding amount."""
    rows = (
        await session.execute(
            select(CustomerProfile, CustomerRow)
            .join(CustomerOwner, CustomerOwner.customer_id == CustomerProfile.customer_id)
            .outerjoin(CustomerRow, CustomerRow.id == CustomerProfile.customer_id)
            .where(CustomerOwner.slack_user_id == user_id)
            .order_by(CustomerProfile.customer_id)
            .limit(50)
        )
    ).all()
    return [
        OwnedCustomerRow(
            customer_id=profile.customer_id,
            customer_name=row.name if row else None,
            customer_email=row.email if row else None,
            facts_text=f"rating {profile.facts.get('rating', 'A')} · outstanding "
            + money_text(profile.facts.get("outstanding") or {}),
            excluded=profile.excluded,
        )
        for profile, row in rows
    ]
