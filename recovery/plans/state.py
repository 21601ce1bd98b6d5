"""A case's plan state as the case engine sees it: does a plan answer its failures, and stop
the plan when the case is settled. (No import of the case engine: it calls these.)"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recovery import audit
from recovery.plans.jobs import queue_card_sync
from storage.models import Case, CasePlan, CasePlanStatus

Status = CasePlanStatus
ACTIVE = (Status.RETRYING, Status.GRACE, Status.AWAITING_APPROVAL, Status.POSTPONED)


async def plan_of(session: AsyncSession, case_id: int) -> CasePlan | None:
    return await session.scalar(select(CasePlan).where(CasePlan.case_id == case_id))


async def plan_manages(session: AsyncSession, case_id: int) -> bool:
    """The case follows a plan that retries: its later failures are the plan's to answer."""
    row = await plan_of(session, case_id)
    return row is not None and row.status in (*ACTIVE, Status.CLOSING)


async def stop_plan(session: AsyncSession, case: Case, status: str, *, actor: str) -> None:
    """The case was settled (paid, voided, uncollectible elsewhere): the plan stops; its queued
    jobs are cancelled with the case's other work, and a close-out card says why."""
    row = await plan_of(session, case.id)
    if row is None or row.status not in ACTIVE:
        return
    shown = row.closeout_round > 0
    row.status = Status.STOPPED
    row.version += 1
    row.result = f"invoice {status}" + (
        f" after retry {row.retries_done} of {row.retries_total}" if row.retries_done else ""
    )
    await audit.record(
        session,
        actor=actor,
        action="plan_stopped",
        case_id=case.id,
        customer_id=case.customer_id,
        plan=row.plan_name,
        why=row.result,
    )
    if shown:
        await queue_card_sync(session, plan_id=row.id)
