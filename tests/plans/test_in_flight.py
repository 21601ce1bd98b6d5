"""A payment in flight is never joined by a second one for the same invoice: card changes that
arrive meanwhile find nothing to move, and the retry keeps its number and key."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from bot.wiring import build_worker
from recovery.jobkinds import JobKind
from storage.models import CaseStatus, Job, JobStatus
from tests.fakes.stripe_events import build_event, store_events
from tests.plans.conftest import INVOICE, add_annual, case_of, pay_keys, run_next_retry
from tests.slack_flow.conftest import SlackHarness


async def job_states(ph: SlackHarness, kind: str) -> list[str]:
    async with ph.runtime.db.sessions() as session:
        return list((await session.scalars(select(Job.status).where(Job.kind == kind))).all())


async def wait_until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + 30
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


def card_changed(ph: SlackHarness) -> dict[str, object]:
    event = build_event("customer.updated", ph.stripe.customer("cus_annual"))
    event["data"]["previous_attributes"] = {"invoice_settings": {"default_payment_method": None}}
    return event


async def test_card_changes_during_a_payment_in_flight_start_no_second_payment(
    ph: SlackHarness,
) -> None:
    add_annual(ph.stripe)
    ph.stripe.decline_next_payments(INVOICE, count=1)
    await ph.fail(INVOICE)
    await run_next_retry(ph)  # retry 1 declined; retry 2 waits 7.5 days
    held = ph.stripe.hold(f"/v1/invoices/{INVOICE}/pay")
    worker = build_worker(ph.runtime)
    worker.concurrency = 4
    worker.poll_s = 0.05
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await store_events(ph.runtime.db, card_changed(ph))  # retry 2 now
        worker.wake()
        assert await asyncio.to_thread(held.arrived.wait, 30)
        await store_events(ph.runtime.db, card_changed(ph), card_changed(ph))
        worker.wake()

        async def both_handled() -> bool:
            states = await job_states(ph, JobKind.PLAN_CARD_UPDATED)
            return states.count(JobStatus.SUCCEEDED) == 3

        await wait_until(both_handled, "the card-change jobs did not run")
        assert len(held._waiting) == 1  # one payment in flight (retry 2), none beside it
        assert len(pay_keys(ph.stripe)) == 1  # answered so far: retry 1
        ph.stripe.release(held)

        async def paid() -> bool:
            return (await case_of(ph.runtime.db)).status == CaseStatus.PAID

        await wait_until(paid, "retry 2 did not finish")
    finally:
        stop.set()
        await running
    assert pay_keys(ph.stripe) == [f"dunbot-plan-retry-{INVOICE}-{n}" for n in (1, 2)]
