"""VIP tasks to targets besides Slack (TEAMS_WEBHOOK_URL, TASK_WEBHOOK_URL): each target gets
each task once, as its own durable job retried with backoff; the Slack card shows the result.

A `task_deliveries` row per (task, target), unique, with a message id fixed at creation (the
Standard Webhooks `webhook-id`, identical on every retry, so receivers can drop a repeat after a
crash between the POST and its record). A delivered row is never sent again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recovery import audit
from recovery.domain import TaskFacts
from recovery.jobkinds import JobKind
from recovery.money import format_amount
from recovery.notify import NotifyCall, enqueue_notify
from recovery.protocols import TaskTargetError, TaskTargets
from storage.db import Database
from storage.models import Case, TaskDelivery, TaskDeliveryStatus, VipTask, utcnow
from storage.queue import enqueue

TARGET_NAMES = {"teams": "Teams", "webhook": "the task webhook"}


async def queue_task_deliveries(
    session: AsyncSession, *, task_id: int, targets: Sequence[str]
) -> None:
    """A delivery row and its job per configured target (none twice for one task)."""
    for target in targets:
        existing = await session.scalar(
            select(TaskDelivery.id).where(
                TaskDelivery.task_id == task_id, TaskDelivery.target == target
            )
        )
        if existing is not None:
            continue
        delivery = TaskDelivery(
            task_id=task_id, target=target, message_id=f"msg_{uuid.uuid4().hex}"
        )
        session.add(delivery)
        await session.flush()
        await enqueue(
            session,
            kind=JobKind.DELIVER_TASK,
            payload={"delivery_id": delivery.id},
            dedupe_key=f"task_delivery:{delivery.id}",
            serial_key=f"task_delivery:{delivery.id}",
        )


def task_facts(task: VipTask, case: Case) -> TaskFacts:
    """The task's facts from the database (as the Slack card shows them)."""
    return TaskFacts(
        task_id=task.id,
        case_id=case.id,
        invoice_id=case.invoice_id,
        invoice_number=case.invoice_number,
        customer_id=case.customer_id,
        customer_name=case.customer_name,
        customer_email=case.customer_email,
        amount_due=case.amount_remaining or case.amount_due,
        currency=case.currency,
        amount_text=format_amount(case.amount_remaining or case.amount_due, case.currency),
        reasons=[str(reason) for reason in case.segment_reasons or []],
        opened_at=task.created_at,
        stripe_url=f"https://dashboard.stripe.com/invoices/{case.invoice_id}",
    )


class TaskDeliveryService:
    """Job body for JobKind.DELIVER_TASK."""

    def __init__(self, *, db: Database, targets: TaskTargets | None) -> None:
        self.db = db
        self.targets = targets

    async def deliver(self, delivery_id: int, *, final_attempt: bool = False) -> str:
        """POST the task to its target unless that already happened; the outcome in a word."""
        async with self.db.sessions() as session:
            delivery = await session.get(TaskDelivery, delivery_id)
            if delivery is None:
                return "missing"
            if delivery.status != TaskDeliveryStatus.PENDING:
                return f"ignored_{delivery.status}"
            task = await session.get(VipTask, delivery.task_id)
            case = await session.get(Case, task.case_id) if task else None
            if task is None or case is None:
                return "missing"
            facts = task_facts(task, case)
            target, message_id = delivery.target, delivery.message_id
        if self.targets is None:
            return await self._record(delivery_id, TaskDeliveryStatus.FAILED, "not configured")
        try:
            await self.targets.deliver(target=target, message_id=message_id, task=facts)
        except TaskTargetError as error:
            status = TaskDeliveryStatus.FAILED if final_attempt else TaskDeliveryStatus.PENDING
            await self._record(delivery_id, status, str(error))
            if final_attempt:
                return "failed"
            raise
        return await self._record(delivery_id, TaskDeliveryStatus.DELIVERED, None)

    async def _record(self, delivery_id: int, status: str, error: str | None) -> str:
        async with self.db.transaction() as session:
            delivery = await session.get(TaskDelivery, delivery_id)
            assert delivery is not None
            delivery.attempts += 1
            delivery.status, delivery.last_error = status, error
            if status == TaskDeliveryStatus.DELIVERED:
                delivery.delivered_at = utcnow()
            if status != TaskDeliveryStatus.PENDING:
                await audit.record(
                    session,
                    actor="system:task_targets",
                    action=f"vip_task_{status}_{delivery.target}",
                    task_id=delivery.task_id,
                    error=error,
                )
                await enqueue_notify(
                    session, NotifyCall.SYNC_VIP_TASK_CARD, task_id=delivery.task_id
                )
        return str(status)
