"""Batch review of bursts: drafts of one kind listed in one message and decided together.

When more than BATCH_REVIEW_THRESHOLD drafts appeared within BATCH_REVIEW_WINDOW_S, a new
draft joins the open batch of its group (decline category, segment, language, template or
AI, currency) instead of getting a card of its own. A group has at most one open batch
(`open_key` is unique); it accepts drafts for one window after it was created, or until
someone decides it; later drafts of the group start a new batch.

Membership is stored: the batch's `version` grows by one with every draft that joins and the
member keeps the version it joined at, so Approve all (or Reject all) on version v applies to
exactly the drafts that version listed. Each member still goes through the draft's own
compare-and-set (`recovery.decisions`): one paid, edited, paused or decided since is skipped
with its reason. The fan-out is a job working through the members in chunks, each chunk one
transaction with the member's outcome, so a worker killed mid fan-out resumes where the last
commit left off and nothing is approved (or sent) twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from recovery import audit
from recovery.actors import Actor
from recovery.decisions import Outcome, approve_draft, mention, reject_draft
from recovery.jobkinds import JobKind
from recovery.notify import NotifyCall, enqueue_notify
from recovery.pauses import active_pause
from storage.db import Database, rows_affected
from storage.models import (
    OPEN_CASE_STATUSES,
    BatchMemberOutcome,
    BatchStatus,
    Case,
    Draft,
    DraftStatus,
    ReviewBatch,
    ReviewBatchDraft,
    utcnow,
)
from storage.queue import enqueue

DECISION_CHUNK = 25
"""Members decided per transaction by the fan-out job."""

Decision = Literal["approve", "reject"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchGroup:
    """What the drafts of one batch have in common."""

    decline_category: str
    segment: str
    language: str
    source: str  # "ai" | "template"
    currency: str

    @property
    def key(self) -> str:
        """The group's stable key (at most 200 characters)."""
        parts = (self.decline_category, self.segment, self.language, self.source, self.currency)
        return "|".join(parts)[:200]

    def as_dict(self) -> dict[str, str]:
        """The group as stored on the batch (for the message's description)."""
        return {
            "decline_category": self.decline_category,
            "segment": self.segment,
            "language": self.language,
            "source": self.source,
            "currency": self.currency,
        }


def group_of(draft: Draft, case: Case) -> BatchGroup:
    """The batch group a draft belongs to."""
    language = (case.locale or "en").replace("_", "-").split("-")[0].lower() or "en"
    return BatchGroup(
        decline_category=(case.decline_category or "unknown")[:40],
        segment=(case.segment or "standard")[:20],
        language=language[:10],
        source="ai" if draft.source == "ai" else "template",
        currency=case.currency.lower()[:3],
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchPolicy:
    """BATCH_REVIEW_THRESHOLD drafts within BATCH_REVIEW_WINDOW_S switch to batch review
    (threshold 0: never)."""

    threshold: int = 10
    window_s: float = 300.0

    @property
    def enabled(self) -> bool:
        """Whether bursts are reviewed in batches at all."""
        return self.threshold > 0


async def in_burst(session: AsyncSession, policy: BatchPolicy, *, now: datetime) -> bool:
    """More than `threshold` drafts were created within the window: review in batches."""
    if not policy.enabled:
        return False
    since = now - timedelta(seconds=policy.window_s)
    recent = await session.scalar(select(func.count(Draft.id)).where(Draft.created_at >= since))
    return (recent or 0) > policy.threshold


async def batch_of_draft(session: AsyncSession, draft_id: int) -> int | None:
    """The batch a draft is listed in, if any."""
    return await session.scalar(
        select(ReviewBatchDraft.batch_id).where(ReviewBatchDraft.draft_id == draft_id)
    )


async def join_batch(
    session: AsyncSession, *, draft_id: int, policy: BatchPolicy, now: datetime | None = None
) -> int | None:
    """List a pending draft in its group's open batch (a new one when none is open) and return
    the batch id; None when the draft is no longer pending or its invoice is settled."""
    listed = await batch_of_draft(session, draft_id)
    if listed is not None:
        return listed
    draft = await session.get(Draft, draft_id)
    case = await session.get(Case, draft.case_id) if draft is not None else None
    if draft is None or case is None:
        return None
    if draft.status != DraftStatus.PENDING or case.status not in OPEN_CASE_STATUSES:
        return None
    group = group_of(draft, case)
    moment = now or utcnow()
    for _ in range(5):
        batch = await session.scalar(select(ReviewBatch).where(ReviewBatch.open_key == group.key))
        if batch is not None and batch.created_at < moment - timedelta(seconds=policy.window_s):
            await _close(session, batch.id, group.key)  # its window ended: a new batch
            continue
        if batch is None:
            await _open(session, group, moment)
            continue
        version = await session.scalar(
            update(ReviewBatch)
            .where(ReviewBatch.id == batch.id, ReviewBatch.open_key == group.key)
            .values(version=ReviewBatch.version + 1, updated_at=moment)
            .returning(ReviewBatch.version)
        )
        if version is None:  # decided or closed meanwhile
            continue
        session.add(
            ReviewBatchDraft(
                batch_id=batch.id,
                draft_id=draft.id,
                case_id=case.id,
                joined_version=version,
                draft_version=draft.version,
                created_at=moment,
            )
        )
        await session.flush()
        return batch.id
    raise RuntimeError("could not find or open a batch for the draft")  # pragma: no cover


async def _open(session: AsyncSession, group: BatchGroup, now: datetime) -> None:
    """Insert the group's open batch unless another transaction did (one per group)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(ReviewBatch)
        .values(
            group_key=group.key,
            open_key=group.key,
            group=group.as_dict(),
            status=BatchStatus.OPEN,
            version=0,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["open_key"])
    )


async def _close(session: AsyncSession, batch_id: int, key: str) -> None:
    """No more drafts join this batch (it stays open for a decision)."""
    await session.execute(
        update(ReviewBatch)
        .where(ReviewBatch.id == batch_id, ReviewBatch.open_key == key)
        .values(open_key=None)
    )


async def listed_members(session: AsyncSession, batch: ReviewBatch) -> list[ReviewBatchDraft]:
    """The members the batch's current (or decided) version lists, in the order they joined."""
    shown = batch.decided_version if batch.decided_version is not None else batch.version
    return list(
        (
            await session.scalars(
                select(ReviewBatchDraft)
                .where(
                    ReviewBatchDraft.batch_id == batch.id,
                    ReviewBatchDraft.joined_version <= shown,
                )
                .order_by(ReviewBatchDraft.id)
            )
        ).all()
    )


async def decide_batch(
    session: AsyncSession,
    *,
    batch_id: int,
    version: int,
    actor: Actor,
    decision: Decision,
    channels: frozenset[str] = frozenset({"email"}),
) -> Outcome:
    """Approve or reject the drafts version `version` of the batch listed (compare-and-set on
    the batch: one decision, whoever clicks first); the fan-out is queued as a job."""
    batch = await session.get(ReviewBatch, batch_id)
    if batch is None:
        return Outcome(False, "Nothing changed: this batch no longer exists.")
    if version > batch.version:
        return Outcome(False, "Nothing changed: this batch message is not one dunbot rendered.")
    status = BatchStatus.APPROVED if decision == "approve" else BatchStatus.REJECTED
    now = utcnow()
    result = await session.execute(
        update(ReviewBatch)
        .where(ReviewBatch.id == batch_id, ReviewBatch.status == BatchStatus.OPEN)
        .values(
            status=status,
            decided_version=version,
            decided_by=actor.id,
            decided_at=now,
            open_key=None,
            updated_at=now,
        )
    )
    if rows_affected(result) != 1:
        await session.refresh(batch)
        by = mention(batch.decided_by)
        return Outcome(False, f"Nothing changed: {by} already {batch.status} this batch.")
    late = (
        await session.scalars(
            delete(ReviewBatchDraft)
            .where(ReviewBatchDraft.batch_id == batch_id, ReviewBatchDraft.joined_version > version)
            .returning(ReviewBatchDraft.draft_id)
        )
    ).all()
    for draft_id in late:  # not shown to the person: each finds its own way (batch or card)
        await enqueue_notify(session, NotifyCall.SYNC_APPROVAL_CARD, draft_id=draft_id)
    count = await session.scalar(
        select(func.count(ReviewBatchDraft.id)).where(ReviewBatchDraft.batch_id == batch_id)
    )
    await audit.record(
        session,
        actor=actor.audit_name,
        action=f"batch_{status}",
        batch_id=batch_id,
        version=version,
        drafts=count or 0,
    )
    await enqueue(
        session,
        kind=JobKind.BATCH_DECISION,
        payload={"batch_id": batch_id, "channels": sorted(channels)},
        dedupe_key=f"batch_decision:{batch_id}",
    )
    await enqueue_notify(session, NotifyCall.SYNC_BATCH, batch_id=batch_id)
    verb = "Approved" if decision == "approve" else "Rejected"
    what = (
        "each email is sent once if its invoice is still unpaid"
        if decision == "approve"
        else ("no email will be sent for them")
    )
    return Outcome(True, f"{verb} {count or 0} drafts of the batch: {what}.")


async def run_batch_decision(db: Database, *, batch_id: int, channels: frozenset[str]) -> int:
    """Job body for JobKind.BATCH_DECISION: decide every listed member not decided yet, a
    chunk per transaction (a rerun after a crash resumes; nothing is decided twice)."""
    decided = 0
    while True:
        async with db.transaction() as session:
            batch = await session.get(ReviewBatch, batch_id)
            if batch is None or batch.status == BatchStatus.OPEN:
                return decided
            members = (
                await session.scalars(
                    select(ReviewBatchDraft)
                    .where(
                        ReviewBatchDraft.batch_id == batch_id,
                        ReviewBatchDraft.outcome.is_(None),
                    )
                    .order_by(ReviewBatchDraft.id)
                    .limit(DECISION_CHUNK)
                )
            ).all()
            if not members:
                return decided
            actor = Actor(
                kind="slack", id=batch.decided_by or "unknown", display=mention(batch.decided_by)
            )
            for member in members:
                await _decide_member(session, batch, member, actor=actor, channels=channels)
            decided += len(members)


async def _decide_member(
    session: AsyncSession,
    batch: ReviewBatch,
    member: ReviewBatchDraft,
    *,
    actor: Actor,
    channels: frozenset[str],
) -> None:
    """Approve or reject one listed draft, or record why it was skipped."""
    member.decided_at = utcnow()
    reason = await skip_reason(session, member)
    if reason is not None:
        member.outcome, member.outcome_reason = BatchMemberOutcome.SKIPPED, reason
        await enqueue_notify(session, NotifyCall.SYNC_APPROVAL_CARD, draft_id=member.draft_id)
        return
    if batch.status == BatchStatus.APPROVED:
        outcome = await approve_draft(
            session,
            draft_id=member.draft_id,
            version=member.draft_version,
            actor=actor,
            channels=channels,
        )
        done = BatchMemberOutcome.APPROVED
    else:
        outcome = await reject_draft(
            session,
            draft_id=member.draft_id,
            version=member.draft_version,
            actor=actor,
            reason=f"rejected with batch #{batch.id}",
        )
        done = BatchMemberOutcome.REJECTED
    if outcome.ok:
        member.outcome = done
    else:
        member.outcome = BatchMemberOutcome.SKIPPED
        member.outcome_reason = "changed meanwhile: " + outcome.message.removeprefix(
            "Nothing changed: "
        )


async def skip_reason(session: AsyncSession, member: ReviewBatchDraft) -> str | None:
    """Why a batch decision must leave this draft alone (paid, decided, edited, paused)."""
    draft = await session.get(Draft, member.draft_id)
    case = await session.get(Case, member.case_id)
    if draft is None or case is None:
        return "no longer exists"
    await session.refresh(draft)
    await session.refresh(case)
    if case.status not in OPEN_CASE_STATUSES:
        return f"invoice {case.status} before the decision"
    if draft.status != DraftStatus.PENDING:
        words = {
            DraftStatus.APPROVED: "approved on its own",
            DraftStatus.REJECTED: "rejected on its own",
            DraftStatus.SUPERSEDED: "replaced by a newer draft",
            DraftStatus.CANCELLED: "cancelled",
        }
        return words.get(DraftStatus(draft.status), f"already {draft.status}")
    if draft.version != member.draft_version:
        return "edited after it was listed"
    pause = await active_pause(session, case.customer_id)
    if pause is not None:
        return "customer excluded from dunning" if pause.excluded else "dunning paused"
    return None
