"""Gaps closed after the plans landed: Regenerate keeps the plan's stage, `/dunning status`
shows the plan, a card change after the last retry makes one extra retry."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from recovery.jobkinds import JobKind
from storage.models import Draft, DraftStatus, Job
from tests.plans.conftest import INVOICE, add_annual, run_next_retry
from tests.slack_flow.conftest import FINANCE, SlackHarness


async def draft_jobs(harness: SlackHarness) -> list[Job]:
    async with harness.runtime.db.sessions() as session:
        query = select(Job).where(Job.kind == JobKind.DRAFT_EMAIL).order_by(Job.id)
        return list((await session.scalars(query)).all())


async def test_regenerate_on_a_plans_draft_keeps_the_plans_stage(ph: SlackHarness) -> None:
    from bot.slack.ids import ApprovalAction, ModalCallback, RegenerateDraftField

    add_annual(ph.stripe)
    ph.stripe.decline_next_payments(INVOICE, count=8)
    await ph.fail(INVOICE)
    async with ph.runtime.db.transaction() as session:  # the first email was dealt with
        await session.execute(update(Draft).values(status=DraftStatus.REJECTED))
    await run_next_retry(ph)
    await run_next_retry(ph)  # the plan drafts its follow_up email after retry 2
    draft = await ph.latest_draft(INVOICE)
    assert draft.round == 2

    await ph.click(ApprovalAction.REGENERATE, FINANCE, await ph.card("approval", draft.id))
    [opened] = ph.slack.calls_to("views.open")
    field = RegenerateDraftField.INSTRUCTION
    await ph.submit(
        ModalCallback.REGENERATE_DRAFT,
        opened.args["view"]["private_metadata"],
        {field.block_id: {field.action_id: "shorter"}},
        FINANCE,
    )
    await ph.worker.run_until_idle()

    *_, regenerated = await draft_jobs(ph)
    assert regenerated.payload["instruction"] == "shorter"
    assert regenerated.payload["stage"] == "follow_up"
    assert regenerated.payload["will_retry"] is True
    assert (await ph.latest_draft(INVOICE)).id != draft.id  # the new draft was written


async def test_dunning_status_shows_the_plan_line_of_the_case_card(ph: SlackHarness) -> None:
    from recovery.plans.progress import day
    from tests.plans.conftest import queued
    from tests.slack_flow.conftest import message_text

    add_annual(ph.stripe)
    ph.stripe.decline_next_payments(INVOICE, count=8)
    await ph.fail(INVOICE)
    await run_next_retry(ph)
    await run_next_retry(ph)
    [retry_3] = await queued(ph.runtime.db, JobKind.PLAN_RETRY)
    closing = retry_3.run_at + 5 * timedelta(days=7, hours=12) + timedelta(days=7)
    expected = (
        f"Plan annual: retry 2 of 8, next on {day(retry_3.run_at)}; closing out on {day(closing)}"
    )
    card = message_text(await ph.card("approval", (await ph.latest_draft(INVOICE)).id))
    assert expected in card

    by_invoice = (await ph.command(f"status {INVOICE}", FINANCE)).text
    by_customer = (await ph.command("status cus_annual", FINANCE)).text

    assert expected in by_invoice
    assert expected in by_customer


async def card_change(harness: SlackHarness) -> None:
    from tests.fakes.stripe_events import build_event, store_events

    event = build_event("customer.updated", harness.stripe.customer("cus_annual"))
    event["data"]["previous_attributes"] = {"invoice_settings": {"default_payment_method": None}}
    await store_events(harness.runtime.db, event)
    await harness.worker.run_until_idle()


async def test_a_card_change_while_the_closeout_card_waits_retries_once_and_settles(
    ph: SlackHarness,
) -> None:
    from storage.models import CasePlanStatus, CaseStatus
    from tests.plans.conftest import case_of, case_plan, pay_keys
    from tests.plans.test_closeout import click, through_the_plan, writes
    from tests.slack_flow.conftest import message_text

    card = await through_the_plan(ph)  # eight declines: the fake pays the next one
    assert len(pay_keys(ph.stripe)) == 8

    await card_change(ph)

    assert pay_keys(ph.stripe)[8:] == [f"dunbot-plan-retry-{INVOICE}-card-change-1"]
    assert (await case_of(ph.runtime.db)).status == CaseStatus.PAID
    row = await case_plan(ph.runtime.db)
    assert row.status == CasePlanStatus.STOPPED
    assert "Nothing to close out: invoice paid" in message_text(
        await ph.card("plan_closeout", row.id)
    )
    await click(ph, "plan_closeout_approve", FINANCE, card)
    assert writes(ph) == ([], [])


async def test_a_declined_card_change_retry_in_the_grace_leaves_the_closeout_as_it_was(
    ph: SlackHarness,
) -> None:
    from storage.models import CasePlanStatus
    from tests.plans.conftest import case_plan, clock, elapse, pay_keys, queued

    add_annual(ph.stripe)
    ph.stripe.decline_next_payments(INVOICE, count=10)
    await ph.fail(INVOICE)
    for _ in range(8):
        await run_next_retry(ph)
    [closeout] = await queued(ph.runtime.db, JobKind.PLAN_CLOSEOUT)
    assert (await case_plan(ph.runtime.db)).status == CasePlanStatus.GRACE

    await card_change(ph)
    await card_change(ph)

    key = f"dunbot-plan-retry-{INVOICE}-card-change-"
    assert pay_keys(ph.stripe)[8:] == [f"{key}1", f"{key}2"]  # one each, its own key
    row = await case_plan(ph.runtime.db)
    assert row.status == CasePlanStatus.GRACE and row.retries_done == 8
    assert [j.id for j in await queued(ph.runtime.db, JobKind.PLAN_CLOSEOUT)] == [closeout.id]
    assert closeout.run_at - clock(ph).now == timedelta(days=7)
    await elapse(ph.runtime.db, timedelta(days=7, seconds=1))
    await ph.worker.run_until_idle()
    assert (await case_plan(ph.runtime.db)).status == CasePlanStatus.AWAITING_APPROVAL
