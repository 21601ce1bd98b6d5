"""The sandbox's "Advance 7 days": time passes for one invoice, so a newcomer sees a dunning
plan, a wait or a cadence email progress without waiting.

Two clocks move for that invoice only. The sandbox billing's (its due date and next automatic
attempt come 7 days closer; Stripe's events of that window are returned to be sent), and
dunbot's durable work: every queued job of the invoice becomes due 7 days earlier
(`storage.queue.shift_due`), whatever its kind. Jobs of an invoice are the ones keyed by it:
its serial key and those of the playbook firings about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.sandbox.billing import SandboxBilling
from recovery.jobkinds import invoice_serial_key
from storage.db import Database
from storage.models import PlaybookFiring, utcnow
from storage.queue import ShiftedJob, shift_due

ADVANCE_STEP = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Advance:
    """What moving one invoice's clock did: the jobs brought forward and Stripe's events."""

    invoice_id: str
    by: timedelta
    jobs: list[ShiftedJob]
    events: list[dict[str, Any]]
    at: datetime

    @property
    def now_due(self) -> list[ShiftedJob]:
        return [job for job in self.jobs if job.now_due <= self.at]

    @property
    def still_waiting(self) -> list[ShiftedJob]:
        return [job for job in self.jobs if job.now_due > self.at]

    def summary(self) -> str:
        """One line for the page, e.g. `… 7 days later: now due: draft email; …`."""
        days = self.by.days
        parts = [f"{self.invoice_id} is {days} day{'s' if days != 1 else ''} later"]
        if self.now_due:
            parts.append("now due: " + ", ".join(_kind(job) for job in self.now_due))
        if self.still_waiting:
            parts.append(
                "still waiting: "
                + ", ".join(
                    f"{_kind(job)} (in {_span(job.now_due - self.at)})"
                    for job in self.still_waiting
                )
            )
        if not self.jobs:
            parts.append("no dunbot work was waiting for it")
        if self.events:
            parts.append("Stripe sent " + ", ".join(str(e["type"]) for e in self.events))
        return "; ".join(parts) + "."


def _kind(job: ShiftedJob) -> str:
    return job.kind.replace("_", " ")


def _span(delta: timedelta) -> str:
    if delta >= timedelta(days=1):
        days = round(delta / timedelta(days=1))
        return f"{days} day{'s' if days != 1 else ''}"
    hours = max(round(delta / timedelta(hours=1)), 1)
    return f"{hours} hour{'s' if hours != 1 else ''}"


async def invoice_job_keys(session: AsyncSession, *, invoice_id: str) -> list[str]:
    """Serial keys of the durable work of one invoice: its own (case work, plan steps, the
    invoice's events) and that of each playbook firing about it (waits and actions)."""
    firings = await session.scalars(
        select(PlaybookFiring.id).where(PlaybookFiring.subject_id == invoice_id)
    )
    # recovery/playbooks/runner.py keys a firing's actions `playbook_firing:<id>`.
    return [invoice_serial_key(invoice_id)] + [f"playbook_firing:{f}" for f in firings.all()]


async def advance_invoice(
    db: Database, billing: SandboxBilling, *, invoice_id: str, by: timedelta = ADVANCE_STEP
) -> Advance:
    """Move one invoice's clock `by` forward in the sandbox billing and in dunbot's queue.

    Raises NotFoundError for an invoice the sandbox does not have. The returned events are
    Stripe's for that window; the caller sends them to the webhook like any sandbox event.
    """
    events = billing.advance_invoice(invoice_id, by=by)
    async with db.transaction() as session:
        keys = await invoice_job_keys(session, invoice_id=invoice_id)
        jobs = await shift_due(session, serial_keys=keys, by=by)
    return Advance(invoice_id=invoice_id, by=by, jobs=jobs, events=events, at=utcnow())
