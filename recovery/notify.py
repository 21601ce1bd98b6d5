"""Asking the Notifier to show something is a job too: enqueued with the state change."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from recovery.jobkinds import JobKind, priority_of
from recovery.protocols import Notifier
from storage.queue import enqueue


class NotifyCall(StrEnum):
    SYNC_APPROVAL_CARD = "sync_approval_card"
    SYNC_VIP_TASK_CARD = "sync_vip_task_card"
    SYNC_CASE_CARDS = "sync_case_cards"
    ESCALATE = "escalate"
    REMIND_VIP_TASK = "remind_vip_task"
    SYNC_BATCH = "sync_batch"  # post or update a batch review message
    SYNC_DIGEST = "sync_digest"  # re-render a burst digest after a card joined its thread


async def enqueue_notify(
    session: AsyncSession,
    call: NotifyCall,
    *,
    draft_id: int | None = None,
    task_id: int | None = None,
    case_id: int | None = None,
    batch_id: int | None = None,
    digest_id: int | None = None,
    note: str | None = None,
    dedupe_key: str | None = None,
    delay_s: float | None = None,
) -> None:
    """Queue one Notifier call; cards of one subject are updated one at a time, in order
    (`delay_s`: not before then, e.g. to coalesce a batch message's updates)."""
    payload: dict[str, Any] = {"call": str(call)}
    for key, value in (
        ("draft_id", draft_id),
        ("task_id", task_id),
        ("case_id", case_id),
        ("batch_id", batch_id),
        ("digest_id", digest_id),
        ("note", note),
    ):
        if value is not None:
            payload[key] = value
    subject = next(
        (s for s in (draft_id, task_id, batch_id, digest_id, case_id) if s is not None), None
    )
    await enqueue(
        session,
        kind=JobKind.NOTIFY,
        payload=payload,
        dedupe_key=dedupe_key,
        serial_key=f"card:{call}:{subject}",
        delay_s=delay_s,
        priority=priority_of(JobKind.NOTIFY),  # a card lets a person act: ahead of drafting
    )


async def run_notify(notifier: Notifier, payload: dict[str, Any]) -> None:
    """Job handler body: dispatch one queued call to the Notifier."""
    call = NotifyCall(payload["call"])
    if call is NotifyCall.SYNC_APPROVAL_CARD:
        await notifier.sync_approval_card(draft_id=payload["draft_id"])
    elif call is NotifyCall.SYNC_VIP_TASK_CARD:
        await notifier.sync_vip_task_card(task_id=payload["task_id"])
    elif call is NotifyCall.SYNC_CASE_CARDS:
        await notifier.sync_case_cards(case_id=payload["case_id"])
    elif call is NotifyCall.ESCALATE:
        await notifier.escalate(case_id=payload["case_id"], note=payload.get("note", ""))
    elif call is NotifyCall.REMIND_VIP_TASK:
        await notifier.remind_vip_task(task_id=payload["task_id"])
    elif call is NotifyCall.SYNC_BATCH:
        await notifier.sync_batch(batch_id=payload["batch_id"])
    elif call is NotifyCall.SYNC_DIGEST:
        await notifier.sync_digest(digest_id=payload["digest_id"])
