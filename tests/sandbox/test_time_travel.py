"""`advance_invoice` finds an invoice's work by its keys, whatever the job: the invoice's own
serial key and the playbook firings about it (a wait of a rule on that invoice)."""

from __future__ import annotations

from datetime import timedelta

from bot.sandbox.billing import DEMO_INVOICES, seed_demo
from bot.sandbox.time_travel import advance_invoice
from storage.db import Database
from storage.models import Job, PlaybookFiring, utcnow
from storage.queue import enqueue

DAY = 86_400.0


async def _firing_wait(db: Database, *, invoice_id: str, in_days: float) -> int:
    """A playbook firing about the invoice and its wait's job, due in `in_days`."""
    async with db.transaction() as session:
        firing = PlaybookFiring(
            rule_name="Wait then remind",
            rule_version="1",
            event_id=f"evt_{invoice_id}_{in_days}",
            event_type="invoice.payment_failed",
            subject_id=invoice_id,
            mode="live",
        )
        session.add(firing)
        await session.flush()
        job_id = await enqueue(
            session,
            kind="playbook_action",
            payload={"action_id": 1},
            serial_key=f"playbook_firing:{firing.id}",
            delay_s=in_days * DAY,
        )
    assert job_id is not None
    return job_id


async def _due(db: Database, job_id: int) -> float:
    """Days until the job is due (negative or zero: due now)."""
    async with db.sessions() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return (job.run_at - utcnow()).total_seconds() / DAY


async def test_a_playbook_wait_on_the_invoice_comes_due_and_others_keep_their_time(
    db: Database,
) -> None:
    billing = seed_demo()
    mine, other = DEMO_INVOICES["standard_en"], DEMO_INVOICES["standard_fr"]
    short_wait = await _firing_wait(db, invoice_id=mine, in_days=3)
    long_wait = await _firing_wait(db, invoice_id=mine, in_days=10)
    not_mine = await _firing_wait(db, invoice_id=other, in_days=3)
    async with db.transaction() as session:
        retry = await enqueue(
            session, kind="plan_retry", payload={}, serial_key=f"invoice:{mine}", delay_s=6 * DAY
        )
    assert retry is not None

    result = await advance_invoice(db, billing, invoice_id=mine, by=timedelta(days=7))

    assert {job.id for job in result.now_due} == {short_wait, retry}
    assert [job.id for job in result.still_waiting] == [long_wait]
    assert await _due(db, short_wait) <= 0 and await _due(db, retry) <= 0
    assert 2.9 < await _due(db, long_wait) < 3.1
    assert 2.9 < await _due(db, not_mine) < 3.1
    assert "now due: playbook action, plan retry" in result.summary()
    assert "still waiting: playbook action (in 3 days)" in result.summary()
