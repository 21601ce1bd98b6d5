"""App Home and the VIP claim reminder, through the real Bolt app and Slack client."""

from __future__ import annotations

import json

from sqlalchemy import update

from storage.models import Job, utcnow
from tests.slack_flow.conftest import FINANCE, MANAGER, VIP, SlackHarness, add_standard, add_vip


async def test_app_home_lists_approvals_waiting_and_the_viewers_vip_tasks(
    sh: SlackHarness,
) -> None:
    add_standard(sh.stripe)
    add_vip(sh.stripe)
    await sh.fail("in_std")
    await sh.fail("in_vip")
    await sh.open_home(MANAGER)
    [publish] = sh.slack.calls_to("views.publish")
    assert publish.args["user_id"] == MANAGER
    home = json.dumps(publish.args["view"])
    assert publish.args["view"]["type"] == "home"
    for invoice_id in ("in_std", "in_vip"):
        assert sh.stripe.update_invoice(invoice_id)["number"] in home


async def test_unclaimed_vip_task_gets_one_reminder_in_its_thread(sh: SlackHarness) -> None:
    add_vip(sh.stripe)
    await sh.fail("in_vip")
    task = await sh.task("in_vip")
    card = await sh.card("vip_task", task.id)
    async with sh.runtime.db.transaction() as session:  # the 2 h SLA has passed
        await session.execute(
            update(Job).where(Job.kind == "vip_claim_reminder").values(run_at=utcnow())
        )
    await sh.worker.run_until_idle()
    reminders = [c for c in sh.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert len(reminders) == 1
    assert reminders[0].args["channel"] == VIP and reminders[0].args["thread_ts"] == card["ts"]
    assert f"<@{MANAGER}>" in json.dumps(reminders[0].args)
    assert FINANCE not in json.dumps(reminders[0].args)


async def test_claimed_vip_task_gets_no_reminder(sh: SlackHarness) -> None:
    from bot.slack.ids import VipAction

    add_vip(sh.stripe)
    await sh.fail("in_vip")
    task = await sh.task("in_vip")
    await sh.click(VipAction.CLAIM, MANAGER, await sh.card("vip_task", task.id))
    async with sh.runtime.db.transaction() as session:
        await session.execute(
            update(Job).where(Job.kind == "vip_claim_reminder").values(run_at=utcnow())
        )
    await sh.worker.run_until_idle()
    assert [c for c in sh.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")] == []
