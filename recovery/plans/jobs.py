"""The jobs of a plan: names of their dedupe and idempotency keys, and queueing them.

Every step is an ordinary queued job on the invoice's serial key (`invoice:in_…`), with a
`run_at`: two steps of one invoice never run at once (so never two payments in flight), and
moving an invoice's pending jobs in time (the sandbox's "advance 7 days") moves its plan.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recovery.jobkinds import JobKind, invoice_serial_key, priority_of
from storage.models import Job, JobStatus
from storage.queue import enqueue


def retry_key(invoice_id: str, retry: int) -> str:
    """Stripe idempotency key of dunbot's payment retry number `retry` of an invoice."""
    return f"dunbot-plan-retry-{invoice_id}-{retry}"


def closeout_key(invoice_id: str, step: str) -> str:
    """Stripe idempotency key of a close-out write (cancel, mark uncollectible, void)."""
    return f"dunbot-closeout-{invoice_id}-{step}"


def card_change_key(invoice_id: str, number: int) -> str:
    """Stripe idempotency key of the extra retry a card change makes after the plan's last."""
    return f"dunbot-plan-retry-{invoice_id}-card-change-{number}"


def retry_dedupe(invoice_id: str, retry: int) -> str:
    return f"plan_retry:{invoice_id}:{retry}"


async def queue_retry(
    session: AsyncSession, *, plan_id: int, invoice_id: str, retry: int, run_at: datetime
) -> int | None:
    """Retry number `retry` at `run_at` (once per invoice and number, however often asked)."""
    return await enqueue(
        session,
        kind=JobKind.PLAN_RETRY,
        payload={"plan_id": plan_id, "retry": retry},
        dedupe_key=retry_dedupe(invoice_id, retry),
        serial_key=invoice_serial_key(invoice_id),
        run_at=run_at,
    )


async def queue_card_change_retry(
    session: AsyncSession, *, plan_id: int, invoice_id: str
) -> int | None:
    """One extra retry now, numbered after the invoice's earlier ones; none while one waits
    (two card events at once race on the same dedupe key: one job)."""
    prefix = f"plan_card_retry:{invoice_id}:"
    statuses = (
        await session.scalars(
            select(Job.status).where(Job.dedupe_key.startswith(prefix, autoescape=True))
        )
    ).all()
    if any(status in (JobStatus.QUEUED, JobStatus.RUNNING) for status in statuses):
        return None
    number = len(statuses) + 1
    return await enqueue(
        session,
        kind=JobKind.PLAN_RETRY,
        payload={"plan_id": plan_id, "card_change": number},
        dedupe_key=f"{prefix}{number}",
        serial_key=invoice_serial_key(invoice_id),
    )


async def queue_closeout(
    session: AsyncSession, *, plan_id: int, invoice_id: str, round_no: int, run_at: datetime
) -> int | None:
    """The close-out (card or closing writes) due at `run_at`; round 2+ after a postpone."""
    return await enqueue(
        session,
        kind=JobKind.PLAN_CLOSEOUT,
        payload={"plan_id": plan_id, "round": round_no},
        dedupe_key=f"plan_closeout:{invoice_id}:{round_no}",
        serial_key=invoice_serial_key(invoice_id),
        run_at=run_at,
    )


async def queue_close_step(
    session: AsyncSession, *, plan_id: int, invoice_id: str, steps: list[str], index: int
) -> int | None:
    """Closing write `steps[index]`; each step queues the next when it is done."""
    return await enqueue(
        session,
        kind=JobKind.PLAN_CLOSE_STEP,
        payload={"plan_id": plan_id, "steps": steps, "index": index},
        dedupe_key=f"plan_close:{invoice_id}:{steps[index]}",
        serial_key=invoice_serial_key(invoice_id),
    )


async def queue_card_sync(session: AsyncSession, *, plan_id: int) -> None:
    """Post or update the close-out card (after the commit; a person may be waiting)."""
    await enqueue(
        session,
        kind=JobKind.PLAN_NOTIFY,
        payload={"plan_id": plan_id},
        serial_key=f"plan_card:{plan_id}",
        priority=priority_of(JobKind.PLAN_NOTIFY),
    )


async def next_retry_at(session: AsyncSession, *, invoice_id: str) -> datetime | None:
    """When the invoice's next queued retry is due (None when none is queued)."""
    return await session.scalar(
        select(Job.run_at)
        .where(
            Job.serial_key == invoice_serial_key(invoice_id),
            Job.kind == JobKind.PLAN_RETRY,
            Job.status == JobStatus.QUEUED,
        )
        .order_by(Job.run_at)
        .limit(1)
    )
