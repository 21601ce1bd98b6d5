"""The daily overdue sweep: open invoices past their due date, evaluated as `invoice.overdue`.

One job per UTC day (dedupe key `overdue_sweep:<day>`): any number of workers, restarts or
start-ups enqueue it and it runs once; each run queues the next day's. Alerts stay once per
(rule, invoice) through the firing key, so the sweep and Stripe's own event never both alert.
After evaluating, it queues the day's digest of what is still overdue (once per day too).
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import select

from recovery.jobkinds import JobKind
from recovery.playbooks.overdue import (
    OVERDUE_EVENT,
    OverdueLine,
    digest_dedupe_key,
    is_overdue,
    next_sweep_at,
    sweep_day,
    sweep_dedupe_key,
    sweep_event,
)
from recovery.playbooks.ports import OverdueInvoices
from recovery.playbooks.runner import PlaybookRunner
from storage.models import PlaybookFiring, utcnow
from storage.queue import enqueue

log = logging.getLogger("dunbot.playbooks")
MAX_DIGEST_LINES = 50


def sweep_wanted(runner: PlaybookRunner) -> bool:
    """Only when some rule triggers on `invoice.overdue`."""
    return OVERDUE_EVENT in runner.playbook.event_types


async def schedule_overdue_sweep(runner: PlaybookRunner, *, now: datetime | None = None) -> bool:
    """Queue today's sweep (a no-op when already queued today); True when this call did."""
    if not sweep_wanted(runner):
        return False
    day = sweep_day(now or utcnow())
    async with runner.db.transaction() as session:
        job_id = await enqueue(
            session,
            kind=JobKind.OVERDUE_SWEEP,
            payload={"day": day.isoformat()},
            dedupe_key=sweep_dedupe_key(day),
        )
    return job_id is not None


async def run_overdue_sweep(
    runner: PlaybookRunner,
    invoices: OverdueInvoices,
    *,
    day: date,
    now: datetime | None = None,
) -> int:
    """Job body: evaluate every overdue invoice, queue the digest and tomorrow's sweep."""
    moment = now or utcnow()
    found = await invoices.list_overdue_invoices(due_before=int(moment.timestamp()))
    overdue = [i for i in found if is_overdue(i, now=moment)]
    fired = 0
    for invoice in overdue:
        fired += await runner.evaluate(sweep_event(invoice, now=moment))
    alerted = await _alerted_invoices(runner, [str(i.get("id")) for i in overdue])
    lines = [
        OverdueLine.from_invoice(i, now=moment).as_payload()
        for i in sorted(overdue, key=lambda i: int(i.get("due_date") or 0))
        if str(i.get("id")) in alerted
    ][:MAX_DIGEST_LINES]
    async with runner.db.transaction() as session:
        if lines:
            await enqueue(
                session,
                kind=JobKind.PLAYBOOK_NOTIFY,
                payload={"call": "overdue_digest", "day": day.isoformat(), "lines": lines},
                dedupe_key=digest_dedupe_key(day),
            )
        await enqueue(
            session,
            kind=JobKind.OVERDUE_SWEEP,
            payload={"day": (next_sweep_at(day).date()).isoformat()},
            dedupe_key=sweep_dedupe_key(next_sweep_at(day).date()),
            run_at=next_sweep_at(day),
        )
    log.info("overdue sweep", extra={"overdue": len(overdue), "fired": fired})
    return fired


async def _alerted_invoices(runner: PlaybookRunner, invoice_ids: list[str]) -> set[str]:
    """Which of these invoices an overdue rule has fired for (live, not dry-run)."""
    if not invoice_ids:
        return set()
    async with runner.db.sessions() as session:
        rows = await session.scalars(
            select(PlaybookFiring.subject_id).where(
                PlaybookFiring.event_type == OVERDUE_EVENT,
                PlaybookFiring.subject_id.in_(invoice_ids),
                PlaybookFiring.mode == "live",
            )
        )
        return {r for r in rows.all() if r}
