"""Load a batch review message's view from the database (recovery.batches owns the rules)."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.slack.views import BatchLine, BatchLineState, BatchView
from recovery.batches import listed_members
from recovery.decline import describe_decline
from recovery.domain import DeclineCategory
from recovery.money import format_amount
from storage.models import (
    OPEN_CASE_STATUSES,
    BatchMemberOutcome,
    BatchStatus,
    Case,
    Draft,
    DraftStatus,
    OutboxEmail,
    OutboxStatus,
    ReviewBatch,
    ReviewBatchDraft,
)

_BY_OUTBOX = {
    OutboxStatus.SENT: BatchLineState.SENT,
    OutboxStatus.CANCELLED: BatchLineState.PAID_BEFORE_SENDING,
    OutboxStatus.FAILED: BatchLineState.FAILED,
    OutboxStatus.UNKNOWN: BatchLineState.FAILED,
}
_DRAFT_GONE = {
    DraftStatus.SUPERSEDED: "replaced by a newer draft",
    DraftStatus.CANCELLED: "cancelled",
}


def language_text(code: str) -> str:
    """`English` for `en` (the code itself when babel does not know it)."""
    try:
        return Locale.parse(code).get_display_name("en") or code
    except (UnknownLocaleError, ValueError, TypeError):
        return code


def line_state(
    batch: ReviewBatch,
    member: ReviewBatchDraft,
    draft: Draft,
    case: Case,
    outbox: OutboxEmail | None,
) -> tuple[BatchLineState, str | None]:
    """Where one listed draft stands, and why when it was skipped."""
    if outbox is not None:
        return _BY_OUTBOX.get(OutboxStatus(outbox.status), BatchLineState.WAITING), None
    if member.outcome == BatchMemberOutcome.SKIPPED:
        return BatchLineState.SKIPPED, member.outcome_reason
    if draft.status == DraftStatus.REJECTED:
        return BatchLineState.REJECTED, None
    if case.status not in OPEN_CASE_STATUSES:
        return BatchLineState.SETTLED, f"invoice {case.status}"
    if draft.status in _DRAFT_GONE:
        return BatchLineState.SKIPPED, _DRAFT_GONE[DraftStatus(draft.status)]
    if draft.status == DraftStatus.APPROVED:
        return BatchLineState.WAITING, None
    if batch.status != BatchStatus.OPEN:
        return BatchLineState.QUEUED, None
    return BatchLineState.PENDING, None


async def batch_view(session: AsyncSession, batch_id: int) -> BatchView | None:
    """What the batch's message shows now (None when the batch is gone)."""
    batch = await session.get(ReviewBatch, batch_id)
    if batch is None:
        return None
    members = await listed_members(session, batch)
    draft_ids = [m.draft_id for m in members]
    drafts = {
        d.id: d for d in (await session.scalars(select(Draft).where(Draft.id.in_(draft_ids))))
    }
    cases = {
        c.id: c
        for c in await session.scalars(
            select(Case).where(Case.id.in_([m.case_id for m in members]))
        )
    }
    outboxes = {
        o.draft_id: o
        for o in await session.scalars(
            select(OutboxEmail).where(OutboxEmail.draft_id.in_(draft_ids))
        )
    }
    group = batch.group or {}
    currency = str(group.get("currency") or "usd")
    lines = []
    for member in members:
        draft, case = drafts[member.draft_id], cases[member.case_id]
        state, reason = line_state(batch, member, draft, case, outboxes.get(draft.id))
        amount = case.amount_remaining or case.amount_due
        lines.append(
            BatchLine(
                draft_id=draft.id,
                draft_version=draft.version,
                invoice_id=case.invoice_id,
                invoice_number=case.invoice_number,
                customer_name=case.customer_name,
                customer_email=case.customer_email,
                amount=amount,
                amount_text=format_amount(amount, case.currency),
                state=state,
                reason=reason,
                actionable=draft.status == DraftStatus.PENDING
                and case.status in OPEN_CASE_STATUSES,
                subject=draft.subject,
                body=draft.body,
            )
        )
    try:
        decline = describe_decline(DeclineCategory(group.get("decline_category") or "unknown"))
    except ValueError:
        decline = str(group.get("decline_category") or "unknown")
    return BatchView(
        batch_id=batch.id,
        version=batch.version,
        status=batch.status,
        currency=currency,
        decline_text=decline,
        segment=str(group.get("segment") or "standard"),
        language_text=language_text(str(group.get("language") or "en")),
        source="ai" if group.get("source") == "ai" else "template",
        lines=lines,
        decided_by=batch.decided_by,
        decided_at=batch.decided_at,
    )
