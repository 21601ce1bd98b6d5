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
