"""What people decide in Slack (or the sandbox), recorded with compare-and-set.

Each function runs inside the caller's transaction, changes state only if the card the
person saw is still current, and queues the side effects (email, card updates) as jobs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from recovery import audit
from recovery.actors import Actor
from recovery.guardrails import check_draft
from recovery.jobkinds import JobKind, invoice_serial_key
from recovery.notify import NotifyCall, enqueue_notify
from recovery.storable_text import storable_text
from storage.db import rows_affected
from storage.models import (
    OPEN_CASE_STATUSES,
    Case,
    Draft,
    DraftStatus,
    Job,
    OutboxEmail,
    OutboxSms,
    OutboxStatus,
    SmsStatus,
    TaskStatus,
    VipTask,
    utcnow,
)
from storage.queue import enqueue


@dataclass(frozen=True, slots=True)
class Outcome:
    """Whether the decision took effect, and what to tell the person."""

    ok: bool
    message: str
    errors: tuple[str, ...] = ()


def mention(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else "someone"


async def _draft_and_case(session: AsyncSession, draft_id: int) -> tuple[Draft, Case] | None:
    draft = await session.get(Draft, draft_id)
    if draft is None:
        return None
    case = await session.get(Case, draft.case_id)
    assert case is not None
    return draft, case


def _why_not_pending(draft: Draft, case: Case) -> str:
    """Explain to a late clicker why nothing happened."""
    if case.status not in OPEN_CASE_STATUSES:
        return f"Nothing changed: the invoice is already {case.status}."
    by = f" by {mention(draft.decided_by)}" if draft.decided_by else ""
    if draft.status == DraftStatus.SUPERSEDED:
        return "Nothing changed: this draft was replaced by a newer one."
    if draft.status == DraftStatus.CANCELLED:
        return "Nothing changed: this draft was cancelled."
    return f"Nothing changed: this draft was already {draft.status}{by}."


async def _draft_changed(
    session: AsyncSession, draft_id: int, case: Case, actor: Actor, action: str, **detail: object
) -> None:
    """Audit a person's decision on a draft (or its email) and update the draft's card."""
    await audit.record(
        session,
        actor=actor.audit_name,
        action=action,
        case_id=case.id,
        customer_id=case.customer_id,
        draft_id=draft_id,
        **detail,
    )
    await enqueue_notify(session, NotifyCall.SYNC_APPROVAL_CARD, draft_id=draft_id)


async def _claim_draft(
    session: AsyncSession, draft_id: int, version: int, values: dict[str, object]
) -> bool:
    """Compare-and-set: apply `values` only if the draft is pending at `version`."""
    result = await session.execute(
        update(Draft)
        .where(Draft.id == draft_id, Draft.version == version, Draft.status == DraftStatus.PENDING)
        .values(version=Draft.version + 1, **values)
    )
    return rows_affected(result) == 1


async def _current(session: AsyncSession, draft_id: int) -> tuple[Draft, Case] | Outcome:
    found = await _draft_and_case(session, draft_id)
    if found is None:
        return Outcome(False, "Nothing changed: this draft no longer exists.")
    draft, case = found
    await session.refresh(draft)
    if draft.status != DraftStatus.PENDING or case.status not in OPEN_CASE_STATUSES:
        return Outcome(False, _why_not_pending(draft, case))
    return draft, case


async def _decide(
    session: AsyncSession,
    draft_id: int,
    version: int,
    values: dict[str, object],
    *,
    if_edited: str | None = None,
) -> tuple[Draft, Case] | Outcome:
    """Record a decision on the pending draft the person saw, or say why nothing changed
    (`if_edited`: the refusal when the draft is still pending but at a newer version)."""
    current = await _current(session, draft_id)
    if isinstance(current, Outcome):
        return current
    draft, case = current
    if await _claim_draft(session, draft_id, version, values):
        return draft, case
    await session.refresh(draft)
    if if_edited is not None and draft.status == DraftStatus.PENDING:
        return Outcome(False, if_edited)
    return Outcome(False, _why_not_pending(draft, case))


async def approve_draft(
    session: AsyncSession,
    *,
    draft_id: int,
    version: int,
    actor: Actor,
    channels: frozenset[str] = frozenset({"email"}),
) -> Outcome:
    """Approve: the email and/or the SMS (`channels`) are queued for sending exactly once."""
    decided = await _decide(
        session,
        draft_id,
        version,
        {"status": DraftStatus.APPROVED, "decided_by": actor.id, "decided_at": utcnow()},
        if_edited="Nothing changed: the draft was edited meanwhile; "
        "review the updated card and approve again.",
    )
    if isinstance(decided, Outcome):
        return decided
    draft, case = decided
    if "email" in channels:
        outbox = OutboxEmail(
            draft_id=draft.id,
            case_id=case.id,
            status=OutboxStatus.APPROVED,
            message_id=f"<dunbot-{draft.id}-{uuid.uuid4().hex}@dunbot>",
        )
        session.add(outbox)
        await session.flush()
        await enqueue(
            session,
            kind=JobKind.SEND_EMAIL,
            payload={"outbox_id": outbox.id},
            dedupe_key=f"send:{outbox.id}",
            serial_key=invoice_serial_key(case.invoice_id),
        )
    if "sms" in channels:
        await queue_sms(session, draft_id=draft.id, case=case)
    await _draft_changed(session, draft.id, case, actor, "draft_approved")
    names = {"email": "the email", "sms": "the SMS"}
    what = " and ".join(name for channel, name in names.items() if channel in channels)
    return Outcome(True, f"Approved: {what} will be sent if the invoice is still unpaid.")


async def queue_sms(session: AsyncSession, *, draft_id: int, case: Case) -> None:
    """One SMS outbox row for the draft and its send job (once: unique per draft)."""
    sms = OutboxSms(draft_id=draft_id, case_id=case.id, status=SmsStatus.APPROVED)
    session.add(sms)
    await session.flush()
    await enqueue(
        session,
        kind=JobKind.SEND_SMS,
        payload={"sms_id": sms.id},
        dedupe_key=f"send_sms:{sms.id}",
        serial_key=invoice_serial_key(case.invoice_id),
    )


async def reject_draft(
    session: AsyncSession, *, draft_id: int, version: int, actor: Actor, reason: str
) -> Outcome:
    reason = storable_text(reason, max_chars=1000) or ""
    decided = await _decide(
        session,
        draft_id,
        version,
        {
            "status": DraftStatus.REJECTED,
            "decided_by": actor.id,
            "decided_at": utcnow(),
            "reject_reason": reason,
        },
    )
    if isinstance(decided, Outcome):
        return decided
    draft, case = decided
    await _draft_changed(session, draft.id, case, actor, "draft_rejected", reason=reason)
    return Outcome(True, "Rejected. No email will be sent for this draft.")


async def edit_draft(
    session: AsyncSession,
    *,
    draft_id: int,
    version: int,
    actor: Actor,
    subject: str,
    body: str,
    allowed_terms: tuple[str, ...] = (),
) -> Outcome:
    """A person's edit goes through the same guardrails as the model's text
    (`allowed_terms`: e.g. our own company name, which may look like a domain)."""
    current = await _current(session, draft_id)
    if isinstance(current, Outcome):
        return current
    draft, case = current
    subject, body = subject.strip(), body.strip()
    errors = check_draft(
        subject,
        body,
        amount_due=case.amount_remaining or case.amount_due,
        currency=case.currency,
        allowed_terms=allowed_terms,
    )
    if errors:
        return Outcome(False, "The edited text was not saved: " + "; ".join(errors), tuple(errors))
    if not await _claim_draft(
        session, draft_id, version, {"subject": subject, "body": body, "edited_by": actor.id}
    ):
        await session.refresh(draft)
        return Outcome(
            False, "Nothing changed: the draft changed meanwhile. " + _why_not_pending(draft, case)
        )
    await _draft_changed(session, draft.id, case, actor, "draft_edited")
    return Outcome(True, "Saved. Review the updated card, then approve.")


async def regenerate_draft(
    session: AsyncSession, *, draft_id: int, version: int, actor: Actor, instruction: str | None
) -> Outcome:
    """Retire this draft and queue a new one, optionally with the person's instruction."""
    instruction = storable_text(instruction, max_chars=500)
    decided = await _decide(
        session,
        draft_id,
        version,
        {"status": DraftStatus.SUPERSEDED, "decided_by": actor.id, "decided_at": utcnow()},
    )
    if isinstance(decided, Outcome):
        return decided
    draft, case = decided
    await enqueue(
        session,
        kind=JobKind.DRAFT_EMAIL,
        payload={
            "case_id": case.id,
            "round": case.round,
            "instruction": instruction,
            "previous_body": draft.body,
            "actor": actor.audit_name,
            **await _round_tone(session, case_id=case.id, round_no=case.round),
        },
        dedupe_key=f"draft:{case.id}:{case.round}:regenerate:{draft.id}",
        serial_key=invoice_serial_key(case.invoice_id),
    )
    await _draft_changed(
        session, draft.id, case, actor, "draft_regeneration_requested", instruction=instruction
    )
    return Outcome(True, "A new draft is being written; it will appear as a new card.")


async def _round_tone(session: AsyncSession, *, case_id: int, round_no: int) -> dict[str, object]:
    """The stage and will_retry the round's first draft was asked in (a dunning plan's email
    names them), so a regenerated draft keeps the plan's tone; empty for a usual round."""
    payload = await session.scalar(
        select(Job.payload).where(Job.dedupe_key == f"draft:{case_id}:{round_no}")
    )
    if not isinstance(payload, dict):
        return {}
    return {key: payload[key] for key in ("stage", "will_retry") if key in payload}


async def _task_cas(
    session: AsyncSession,
    task_id: int,
    version: int,
    expected: TaskStatus,
    values: dict[str, object],
) -> bool:
    result = await session.execute(
        update(VipTask)
        .where(VipTask.id == task_id, VipTask.version == version, VipTask.status == expected)
        .values(version=VipTask.version + 1, **values)
    )
    return rows_affected(result) == 1


async def _task_refusal(session: AsyncSession, task: VipTask) -> Outcome:
    await session.refresh(task)
    if task.status == TaskStatus.CLAIMED:
        return Outcome(False, f"Nothing changed: {mention(task.owner)} has already claimed it.")
    if task.status == TaskStatus.RESOLVED:
        return Outcome(False, "Nothing changed: the invoice is already settled.")
    if task.status == TaskStatus.DONE:
        return Outcome(False, f"Nothing changed: {mention(task.owner)} already closed it.")
    return Outcome(False, "Nothing changed: the task changed meanwhile; look at the card again.")


async def _task_changed(
    session: AsyncSession, task: VipTask, action: str, actor: Actor, **detail: object
) -> None:
    case = await session.get(Case, task.case_id)
    await audit.record(
        session,
        actor=actor.audit_name,
        action=action,
        case_id=task.case_id,
        customer_id=case.customer_id if case else None,
        task_id=task.id,
        **detail,
    )
    await enqueue_notify(session, NotifyCall.SYNC_VIP_TASK_CARD, task_id=task.id)


async def claim_task(session: AsyncSession, *, task_id: int, version: int, actor: Actor) -> Outcome:
    task = await session.get(VipTask, task_id)
    if task is None:
        return Outcome(False, "Nothing changed: this task no longer exists.")
    if not await _task_cas(
        session,
        task_id,
        version,
        TaskStatus.OPEN,
        {"status": TaskStatus.CLAIMED, "owner": actor.id, "claimed_at": utcnow()},
    ):
        return await _task_refusal(session, task)
    await _task_changed(session, task, "vip_task_claimed", actor)
    return Outcome(True, "You own this task now.")


async def release_task(
    session: AsyncSession, *, task_id: int, version: int, actor: Actor
) -> Outcome:
    task = await session.get(VipTask, task_id)
    if task is None:
        return Outcome(False, "Nothing changed: this task no longer exists.")
    if task.status == TaskStatus.CLAIMED and task.owner != actor.id:
        return Outcome(False, f"Nothing changed: only {mention(task.owner)} can release it.")
    if not await _task_cas(
        session,
        task_id,
        version,
        TaskStatus.CLAIMED,
        {"status": TaskStatus.OPEN, "owner": None, "claimed_at": None},
    ):
        return await _task_refusal(session, task)
    await _task_changed(session, task, "vip_task_released", actor)
    return Outcome(True, "Released: the task is open for anyone to claim.")


async def complete_task(
    session: AsyncSession, *, task_id: int, version: int, actor: Actor, note: str
) -> Outcome:
    note = storable_text(note, max_chars=2000) or ""
    task = await session.get(VipTask, task_id)
    if task is None:
        return Outcome(False, "Nothing changed: this task no longer exists.")
    if task.status == TaskStatus.CLAIMED and task.owner != actor.id:
        return Outcome(False, f"Nothing changed: {mention(task.owner)} owns this task.")
    if not await _task_cas(
        session,
        task_id,
        version,
        TaskStatus.CLAIMED,
        {"status": TaskStatus.DONE, "note": note, "done_at": utcnow()},
    ):
        return await _task_refusal(session, task)
    await _task_changed(session, task, "vip_task_done", actor, note=note)
    return Outcome(True, "Done. Thank you.")


async def retry_unknown_email(session: AsyncSession, *, outbox_id: int, actor: Actor) -> Outcome:
    """An approver decided an email of unknown outcome should go out again."""
    result = await session.execute(
        update(OutboxEmail)
        .where(
            OutboxEmail.id == outbox_id,
            OutboxEmail.status.in_([OutboxStatus.UNKNOWN, OutboxStatus.FAILED]),
        )
        .values(status=OutboxStatus.RETRYING, last_error=None)
    )
    outbox = await session.get(OutboxEmail, outbox_id)
    if outbox is None or rows_affected(result) != 1:
        return Outcome(False, "Nothing changed: this email is no longer waiting for a decision.")
    case = await session.get(Case, outbox.case_id)
    assert case is not None
    await enqueue(
        session,
        kind=JobKind.SEND_EMAIL,
        payload={"outbox_id": outbox_id},
        dedupe_key=f"send:{outbox_id}:retry:{uuid.uuid4().hex}",
        serial_key=invoice_serial_key(case.invoice_id),
    )
    await _draft_changed(
        session, outbox.draft_id, case, actor, "email_retry_requested", outbox_id=outbox_id
    )
    return Outcome(True, "The email will be sent again.")


async def mark_email_sent(session: AsyncSession, *, outbox_id: int, actor: Actor) -> Outcome:
    """An approver confirmed (e.g. from the mail server's logs) that the email did leave."""
    now = utcnow()
    result = await session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == outbox_id, OutboxEmail.status == OutboxStatus.UNKNOWN)
        .values(status=OutboxStatus.SENT, sent_at=now, marked_sent_by=actor.id)
    )
    outbox = await session.get(OutboxEmail, outbox_id)
    if outbox is None or rows_affected(result) != 1:
        return Outcome(False, "Nothing changed: this email is no longer of unknown outcome.")
    case = await session.get(Case, outbox.case_id)
    assert case is not None
    case.emails_sent += 1
    case.last_email_at = now
    await _draft_changed(
        session, outbox.draft_id, case, actor, "email_marked_sent", outbox_id=outbox_id
    )
    return Outcome(True, "Marked as sent.")
