"""The example file's annual plan against the fake Stripe: 8 retries over 60 days paid through
`POST /v1/invoices/{id}/pay` with one idempotency key per retry, stopped by any payment."""

from __future__ import annotations

from datetime import timedelta

from recovery.jobkinds import JobKind
from storage.models import CasePlanStatus, CaseStatus, JobStatus
from tests.fakes.stripe_events import build_event, store_events
from tests.plans.conftest import (
    INVOICE,
    SUBSCRIPTION,
    add_annual,
    case_of,
    case_plan,
    clock,
    pay_keys,
    plan_jobs,
    queued,
    run_next_retry,
)
from tests.slack_flow.conftest import SlackHarness


async def test_an_annual_subscriber_gets_the_annual_plan_and_its_first_retry_in_7_5_days(
    ph: SlackHarness,
) -> None:
    add_annual(ph.stripe)
    await ph.fail(INVOICE)

    row = await case_plan(ph.runtime.db)
    assert (row.plan_name, row.retries_total, row.status) == ("annual", 8, CasePlanStatus.RETRYING)
    assert row.assigned_by == 'rule "Annual subscribers: annual dunning plan"'
    assert row.subscription_id == SUBSCRIPTION
    case = await case_of(ph.runtime.db)
    [retry] = await queued(ph.runtime.db, JobKind.PLAN_RETRY)
    assert retry.run_at == case.created_at + timedelta(days=7, hours=12)
    assert retry.serial_key == f"invoice:{INVOICE}" and retry.payload["retry"] == 1


async def test_a_monthly_subscriber_stays_on_the_default_plan(ph: SlackHarness) -> None:
    add_annual(ph.stripe, interval="month")
    await ph.fail(INVOICE)

    assert await queued(ph.runtime.db, JobKind.PLAN_RETRY) == []
    assert await plan_jobs(ph.runtime.db) == []


async def test_paid_at_retry_6_stops_the_plan_and_nothing_more_is_tried(ph: SlackHarness) -> None:
    add_annual(ph.stripe)
    ph.stripe.decline_next_payments(INVOICE, count=5, code="insufficient_funds")
    await ph.fail(INVOICE)

    for number in range(1, 7):
        job = await run_next_retry(ph)
        assert job.payload["retry"] == number

    assert pay_keys(ph.stripe) == [f"dunbot-plan-retry-{INVOICE}-{n}" for n in range(1, 7)]
    assert (await case_of(ph.runtime.db)).status == CaseStatus.PAID
    row = await case_plan(ph.runtime.db)
    assert row.status == CasePlanStatus.STOPPED and row.retries_done == 6
    assert "after retry 6 of 8" in (row.result or "")
    assert await plan_jobs(ph.runtime.db, JobStatus.QUEUED) == []
    await ph.worker.run_until_idle()
    assert len(pay_keys(ph.stripe)) == 6


async def test_a_payment_mid_plan_cancels_every_remaining_plan_job(ph: SlackHarness) -> None:
    add_annual(ph.stripe)
    ph.stripe.decline_next_payments(INVOICE, count=8)
    await ph.fail(INVOICE)
    for _ in range(3):
        await run_next_retry(ph)
    [pending] = await queued(ph.runtime.db, JobKind.PLAN_RETRY)
    assert pending.payload["retry"] == 4

    await ph.pay(INVOICE)  # the customer paid through the pay link: invoice.paid

    assert [j.status for j in await plan_jobs(ph.runtime.db) if j.id == pending.id] == [
        JobStatus.CANCELLED
    ]
    assert (await case_plan(ph.runtime.db)).status == CasePlanStatus.STOPPED
    assert len(pay_keys(ph.stripe)) == 3


async def test_each_retry_rereads_the_invoice_and_a_paid_one_is_not_charged(
    ph: SlackHarness,
) -> None:
    add_annual(ph.stripe)
    await ph.fail(INVOICE)
    ph.stripe.update_invoice(INVOICE, status="paid", amount_remaining=0, amount_paid=9_900)

    await run_next_retry(ph)  # no webhook came (yet): the retry's own read finds it paid

    assert pay_keys(ph.stripe) == []
    assert (await case_of(ph.runtime.db)).status == CaseStatus.PAID
    assert (await case_plan(ph.runtime.db)).status == CasePlanStatus.STOPPED


async def test_duplicate_and_late_failure_webhooks_do_not_schedule_twice(ph: SlackHarness) -> None:
    add_annual(ph.stripe)
    ph.stripe.decline_next_payments(INVOICE, count=8)
    original = build_event("invoice.payment_failed", ph.stripe.update_invoice(INVOICE))
    await store_events(ph.runtime.db, original)
    await ph.worker.run_until_idle()
    await run_next_retry(ph)  # declined: Stripe sends invoice.payment_failed for it
    after_retry = build_event("invoice.payment_failed", ph.stripe.update_invoice(INVOICE))
    late = build_event("invoice.payment_failed", original["data"]["object"])
    await store_events(ph.runtime.db, after_retry, after_retry, late)
    await store_events(ph.runtime.db, after_retry)
    await ph.worker.run_until_idle()

    assert [j.payload["retry"] for j in await queued(ph.runtime.db, JobKind.PLAN_RETRY)] == [2]
    assert len(await plan_jobs(ph.runtime.db)) == 2  # retry 1 (done) and retry 2
    assert len(await queued(ph.runtime.db, JobKind.DRAFT_EMAIL)) == 0
    assert (await case_of(ph.runtime.db)).round == 1  # the first failure's email only


async def test_a_new_card_retries_now_with_the_pending_retry_number(ph: SlackHarness) -> None:
    add_annual(ph.stripe)
    ph.stripe.decline_next_payments(INVOICE, count=2)
    await ph.fail(INVOICE)
    await run_next_retry(ph)
    await run_next_retry(ph)
    [pending] = await queued(ph.runtime.db, JobKind.PLAN_RETRY)
    assert pending.payload["retry"] == 3

    customer = ph.stripe.customer("cus_annual")
    event = build_event("customer.updated", customer)
    event["data"]["previous_attributes"] = {"invoice_settings": {"default_payment_method": None}}
    await store_events(ph.runtime.db, event)
    await ph.worker.run_until_idle()

    assert pay_keys(ph.stripe)[-1] == f"dunbot-plan-retry-{INVOICE}-3"
    assert (await case_of(ph.runtime.db)).status == CaseStatus.PAID
    assert clock(ph).now  # the frozen clock never moved: the card change alone made it due


async def test_the_customers_plan_wins_over_the_invoice_rule(ph: SlackHarness) -> None:
    from sqlalchemy import select

    from storage.models import AuditEntry, CustomerProfile

    add_annual(ph.stripe)
    async with ph.runtime.db.transaction() as session:
        session.add(
            CustomerProfile(customer_id="cus_annual", dunning_plan="default", plan_rule="Gentle")
        )
    await ph.fail(INVOICE)

    assert await queued(ph.runtime.db, JobKind.PLAN_RETRY) == []
    async with ph.runtime.db.sessions() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "plan_assigned"))
    assert entry is not None
    assert entry.detail["plan"] == "default"
    assert entry.detail["chosen_by"] == 'customer rule "Gentle"'
    assert entry.detail["overridden"] == ["Annual subscribers: annual dunning plan"]


async def test_the_case_card_shows_the_plan_and_where_the_case_is(ph: SlackHarness) -> None:
    from recovery.plans.progress import day
    from storage.models import Draft
    from tests.slack_flow.conftest import message_text

    add_annual(ph.stripe)
    ph.stripe.decline_next_payments(INVOICE, count=8)
    await ph.fail(INVOICE)
    await run_next_retry(ph)
    await run_next_retry(ph)

    [retry_3] = await queued(ph.runtime.db, JobKind.PLAN_RETRY)
    closing = retry_3.run_at + 5 * timedelta(days=7, hours=12) + timedelta(days=7)
    draft = await ph.latest_draft(INVOICE)
    assert isinstance(draft, Draft)
    text = message_text(await ph.card("approval", draft.id))
    assert (
        f"Plan annual: retry 2 of 8, next on {day(retry_3.run_at)}; closing out on {day(closing)}"
    ) in text


async def test_the_plans_emails_follow_its_retries_in_their_stage(ph: SlackHarness) -> None:
    from sqlalchemy import select, update

    from storage.models import Draft, DraftStatus, Job

    add_annual(ph.stripe)
    ph.stripe.decline_next_payments(INVOICE, count=8)
    await ph.fail(INVOICE)
    async with ph.runtime.db.transaction() as session:  # the first email was dealt with
        await session.execute(update(Draft).values(status=DraftStatus.REJECTED))
    await run_next_retry(ph)
    await run_next_retry(ph)

    async with ph.runtime.db.sessions() as session:
        drafts = (await session.scalars(select(Job).where(Job.kind == JobKind.DRAFT_EMAIL))).all()
        rounds = (await session.scalars(select(Draft.round).order_by(Draft.id))).all()
    assert [(j.payload["round"], j.payload.get("stage")) for j in drafts] == [
        (1, None),
        (2, "follow_up"),
    ]
    assert drafts[1].payload["will_retry"] is True
    assert list(rounds) == [1, 2]  # drafted: its approval card waits for finance


async def test_a_paused_customers_retries_wait(ph: SlackHarness) -> None:
    from tests.slack_flow.conftest import FINANCE

    add_annual(ph.stripe)
    await ph.fail(INVOICE)
    response = await ph.command("pause cus_annual for 30d", FINANCE)
    assert response.status_code == 200
    await ph.worker.run_until_idle()

    job = await run_next_retry(ph)

    assert pay_keys(ph.stripe) == []
    [waiting] = await queued(ph.runtime.db, JobKind.PLAN_RETRY)
    assert waiting.id == job.id and waiting.payload["retry"] == 1  # the same retry, later
    assert (await case_plan(ph.runtime.db)).retries_done == 0
