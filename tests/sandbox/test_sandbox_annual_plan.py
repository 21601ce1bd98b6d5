"""The sandbox side of the demo's annual plan (tests/plans/test_demo_plan.py has the plan's):
the page says when the plan's retry is due, dunbot's retry declines in the sandbox billing, and
Stripe's event for it comes back without a new email (the plan decides those)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from bot.sandbox.billing import DEMO_ANNUAL_INVOICE
from bot.wiring import build_worker
from recovery.jobkinds import JobKind
from storage.models import Draft, Job, JobStatus


async def _drafts(app: Any) -> int:
    async with app.state.runtime.db.sessions() as session:
        return len((await session.scalars(select(Draft.id))).all())


async def _plan_retries(app: Any) -> list[Job]:
    async with app.state.runtime.db.sessions() as session:
        jobs = await session.scalars(
            select(Job).where(Job.kind == JobKind.PLAN_RETRY).order_by(Job.run_at)
        )
        return list(jobs.all())


async def test_advancing_an_annual_plan_invoice_runs_its_next_retry(
    served_demo: tuple[httpx.AsyncClient, Any],
) -> None:
    client, app = served_demo
    worker = build_worker(app.state.runtime)
    billing = app.state.sandbox.billing
    failed = await client.post(
        "/sandbox/api/billing", json={"invoice_id": DEMO_ANNUAL_INVOICE, "action": "fail"}
    )
    assert failed.status_code == 200
    await worker.run_until_idle()
    [first] = await _plan_retries(app)  # the plan's first retry, 7.5 days out (8 over 60 days)
    assert first.status == JobStatus.QUEUED

    drafts = await _drafts(app)

    advance = {"invoice_id": DEMO_ANNUAL_INVOICE, "days": 7}
    week_one = (await client.post("/sandbox/api/advance", json=advance)).json()
    assert week_one["now_due"] == [] and week_one["still_waiting"] == [JobKind.PLAN_RETRY]
    assert "still waiting: plan retry (in 12 hours)" in week_one["text"]
    week_two = (await client.post("/sandbox/api/advance", json=advance)).json()
    assert JobKind.PLAN_RETRY in week_two["now_due"]

    await worker.run_until_idle()
    await app.state.sandbox_write_events.drain()
    await worker.run_until_idle()

    retries = await _plan_retries(app)
    assert retries[0].id == first.id and retries[0].status == JobStatus.SUCCEEDED
    assert billing.invoice(DEMO_ANNUAL_INVOICE)["attempt_count"] == 2  # dunbot's retry declined
    assert [e["type"] for e in billing.written_events] == ["invoice.payment_failed"]
    assert [job.status for job in retries[1:]] == [JobStatus.QUEUED]  # the next one waits
    assert await _drafts(app) == drafts  # retry 1 has no email in the annual plan
