"""Where a case is in its plan, in one line: "Plan annual: retry 5 of 8, next on 14 Jan;
closing out on 21 Feb". Pure: the caller passes the plan, its row and the next retry's time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recovery.plans.jobs import next_retry_at
from recovery.plans.model import DunningPlan
from storage.models import CasePlan, CasePlanStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanProgress:
    """What a case card shows of its plan (times in UTC)."""

    plan_name: str
    status: str
    retries_done: int
    retries_total: int
    next_retry_at: datetime | None = None
    closeout_at: datetime | None = None
    decided_by: str | None = None
    result: str | None = None


def day(moment: datetime) -> str:
    return f"{moment.day} {moment:%b}"


def expected_closeout(
    plan: DunningPlan, *, retries_done: int, next_retry_at: datetime | None
) -> datetime | None:
    """When the close-out comes if no retry succeeds: the next retry, the gaps after it, grace."""
    if next_retry_at is None or retries_done >= plan.retries:
        return None
    rest = sum(
        (plan.gap_before(k) for k in range(retries_done + 2, plan.retries + 1)), timedelta(0)
    )
    return next_retry_at + rest + plan.grace


def _same(text: str) -> str:
    return text


def progress_line(
    progress: PlanProgress,
    *,
    escape: Callable[[str], str] = _same,
    mention: Callable[[str], str] = _same,
) -> str:
    """The line for the case card; `escape` protects the plan's name and results (Slack
    mrkdwn), `mention` turns the decider's user id into a mention."""
    head = f"Plan {escape(progress.plan_name)}"
    done, total = progress.retries_done, progress.retries_total
    by = mention(progress.decided_by) if progress.decided_by else "someone"
    closeout = f"closing out on {day(progress.closeout_at)}" if progress.closeout_at else ""
    match progress.status:
        case CasePlanStatus.RETRYING:
            if progress.next_retry_at is None:
                step = f"retry {done} of {total}" if done else f"{total} retries planned"
            elif done:
                step = f"retry {done} of {total}, next on {day(progress.next_retry_at)}"
            else:
                step = f"retry 1 of {total} on {day(progress.next_retry_at)}"
            return f"{head}: {step}" + (f"; {closeout}" if closeout else "")
        case CasePlanStatus.GRACE:
            return f"{head}: {done} of {total} retries declined; grace period, " + (
                closeout or "close-out next"
            )
        case CasePlanStatus.AWAITING_APPROVAL:
            return f"{head}: {done} of {total} retries declined; close-out waiting for approval"
        case CasePlanStatus.POSTPONED:
            when = day(progress.closeout_at) if progress.closeout_at else "later"
            return f"{head}: close-out postponed to {when} by {by}"
        case CasePlanStatus.CLOSING:
            return f"{head}: closing out (approved by {by})"
        case CasePlanStatus.CLOSED:
            return f"{head}: closed out — {escape(progress.result or 'done')}"
        case CasePlanStatus.REJECTED:
            return f"{head}: close-out rejected by {by}; the subscription is kept"
        case CasePlanStatus.LEFT_OPEN:
            return f"{head}: {done} of {total} retries declined; the invoice is left open"
        case _:
            return f"{head}: stopped — {escape(progress.result or 'the invoice was settled')}"


async def case_plan_progress(
    session: AsyncSession, *, case_id: int, plan: Callable[[str], DunningPlan | None]
) -> PlanProgress | None:
    """The progress of a case on a retrying plan (None when the case has no such plan)."""
    row = await session.scalar(select(CasePlan).where(CasePlan.case_id == case_id))
    if row is None:
        return None
    next_at = await next_retry_at(session, invoice_id=row.invoice_id)
    closeout = row.closeout_at
    found = plan(row.plan_name)
    if row.status == CasePlanStatus.RETRYING and found is not None:
        closeout = expected_closeout(found, retries_done=row.retries_done, next_retry_at=next_at)
    return PlanProgress(
        plan_name=row.plan_name,
        status=row.status,
        retries_done=row.retries_done,
        retries_total=row.retries_total,
        next_retry_at=next_at,
        closeout_at=closeout if found is None or found.closing else None,
        decided_by=row.decided_by,
        result=row.result,
    )
