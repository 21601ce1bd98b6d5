"""A poison event: its job dies, one alert in the alerts channel names it and says why, and the
Retry button (finance approvers only, once however often clicked) runs it again."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.slack.ids import DeadJobAction
from storage.models import Case, Job, JobStatus
from storage.queue import JOB_DIED
from tests.fakes.slack_server import FakeSlack
from tests.fakes.stripe_events import build_event, store_events
from tests.fakes.stripe_server import FakeStripe
from tests.slack_flow.conftest import (
    APPROVALS,
    FINANCE,
    FINANCE_2,
    OUTSIDER,
    SlackHarness,
    add_standard,
    buttons,
    message_text,
    wired_harness,
)


async def _jobs(sh: SlackHarness, kind: str) -> list[Job]:
    async with sh.runtime.db.sessions() as session:
        return list((await session.scalars(select(Job).where(Job.kind == kind))).all())


async def _poison_event(sh: SlackHarness) -> tuple[str, Job]:
    """A failed invoice whose customer is null in Stripe: processing it can never succeed."""
    add_standard(sh.stripe, name="Ana Secretname", email="ana.secret@example.com")
    invoice = sh.stripe.update_invoice("in_std", customer=None)
    event = build_event("invoice.payment_failed", invoice)
    await store_events(sh.runtime.db, event)
    await sh.worker.run_until_idle()
    [job] = await _jobs(sh, "process_stripe_event")
    return event["id"], job


def _alerts(sh: SlackHarness) -> list[dict]:
    return [
        message
        for message in sh.slack.messages.values()
        if DeadJobAction.RETRY in buttons(message) or "failed for good" in message.get("text", "")
    ]


async def test_a_poison_event_dies_and_one_alert_names_it_with_a_retry_button(
    sh: SlackHarness,
) -> None:
    event_id, job = await _poison_event(sh)
    assert job.status == JobStatus.DEAD and job.attempts == 1  # retrying cannot help
    assert job.last_error and "Secretname" not in job.last_error and "@" not in job.last_error

    [alert] = _alerts(sh)
    posts = sh.slack.calls_to("chat.postMessage")
    [post] = [call for call in posts if "failed for good" in call.args["text"]]
    assert post.args["channel"] == APPROVALS  # SLACK_ALERTS_CHANNEL defaults to approvals
    text = message_text(alert)
    assert event_id in text and "invoice.payment_failed" in text and "in_std" in text
    assert "Why:* invoice in_std has no customer in Stripe" in text and "Secretname" not in text
    assert buttons(alert)[DeadJobAction.RETRY]["text"]["text"] == "Retry"
    [died] = await _jobs(sh, JOB_DIED)
    assert died.status == JobStatus.SUCCEEDED


async def test_retry_is_for_finance_approvers_and_runs_the_job_again_once(
    sh: SlackHarness,
) -> None:
    _event_id, job = await _poison_event(sh)
    [alert] = _alerts(sh)
    alert |= {"channel": APPROVALS, "ts": alert["ts"]}

    refused = await sh.click(DeadJobAction.RETRY, OUTSIDER, alert)
    assert refused.status_code == 200
    await sh.worker.run_until_idle()
    assert [j.status for j in await _jobs(sh, "process_stripe_event")] == [JobStatus.DEAD]
    assert "Only the finance approvers" in sh.slack.ephemerals[-1]["text"]

    sh.stripe.update_invoice("in_std", customer="cus_std")  # the cause is fixed
    first = await sh.click(DeadJobAction.RETRY, FINANCE, alert)
    second = await sh.click(DeadJobAction.RETRY, FINANCE_2, alert)  # a second person, same card
    assert first.status_code == second.status_code == 200
    await sh.worker.run_until_idle()

    [rerun] = await _jobs(sh, "process_stripe_event")
    assert rerun.id == job.id and rerun.status == JobStatus.SUCCEEDED and rerun.attempts == 1
    async with sh.runtime.db.sessions() as session:
        assert await session.scalar(select(Case).where(Case.invoice_id == "in_std")) is not None
    answers = [e["text"] for e in sh.slack.ephemerals if e["user"] in {FINANCE, FINANCE_2}]
    assert any("queued to run again" in a for a in answers)
    assert any("Nothing changed" in a and "not dead" in a for a in answers)
    updated = sh.slack.message(APPROVALS, alert["ts"])
    assert DeadJobAction.RETRY not in buttons(updated)
    assert f"Retried by <@{FINANCE}>" in message_text(updated)
    assert len(_alerts(sh)) == 1  # the card was updated in place, not posted again


async def test_alerts_go_to_slack_alerts_channel_when_set(
    database_url: str, fake_slack: FakeSlack, fake_stripe: FakeStripe, tmp_path: Path
) -> None:
    async with wired_harness(
        database_url, fake_slack, fake_stripe, tmp_path, slack_alerts_channel="CALERTS"
    ) as harness:
        await _poison_event(harness)
    posts = fake_slack.calls_to("chat.postMessage")
    assert [call.args["channel"] for call in posts] == ["CALERTS"]
