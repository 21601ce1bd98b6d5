"""SMS beside email (DUNNING_CHANNELS=email,sms) through the twilio SDK and a local fake
Twilio: consent, quiet hours, one message with the pay link, STOP, crashes and errors."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.slack.ids import ApprovalAction
from recovery.guardrails import find_links
from recovery.sms import fits_one_sms
from storage.models import OutboxSms, SmsOptOut, SmsStatus, utcnow
from tests.slack_flow.conftest import FINANCE, buttons, message_text
from tests.sms.conftest import MORNING_BERLIN, NIGHT_BERLIN, PHONE, SmsHarness


async def card_text(sms: SmsHarness, invoice_id: str = "in_sms") -> str:
    draft = await sms.app.latest_draft(invoice_id)
    return message_text(await sms.app.card("approval", draft.id))


async def test_approve_sends_one_sms_with_the_pay_link(sms: SmsHarness) -> None:
    sms.customer()
    await sms.fail_and_approve()

    [message] = sms.twilio.messages
    [row] = await sms.sms_rows()
    assert message.to == PHONE and message.sender == "+15005550006"
    assert fits_one_sms(message.body) and len(message.body) <= 160
    assert find_links(message.body) == ["https://invoice.stripe.com/i/acct_fake/in_sms"]
    assert "$49.00" in message.body and "Acme" in message.body
    assert (row.status, row.twilio_sid, row.body) == (SmsStatus.SENT, message.sid, message.body)
    assert len(sms.smtp.messages) == 1  # the email went too
    assert "SMS sent \\u2713" in await card_text(sms)

    await sms.make_sms_jobs_due()
    await sms.app.worker.run_until_idle()
    assert len(sms.twilio.messages) == 1


async def test_without_consent_no_sms(sms: SmsHarness) -> None:
    sms.customer(consent=None)
    await sms.fail_and_approve()

    [row] = await sms.sms_rows()
    assert sms.twilio.messages == [] and sms.twilio.attempts == 0
    assert row.status == SmsStatus.SKIPPED and "consent" in (row.last_error or "")
    assert len(sms.smtp.messages) == 1


async def test_quiet_hours_hold_until_morning_then_send_once(sms: SmsHarness) -> None:
    sms.customer()
    sms.now = NIGHT_BERLIN
    await sms.fail_and_approve()

    [row] = await sms.sms_rows()
    [job] = await sms.sms_jobs()
    assert sms.twilio.messages == [] and row.status == SmsStatus.HELD
    assert row.held_until == MORNING_BERLIN.replace(minute=0)  # 08:00 in Berlin
    assert job.status == "queued" and job.run_at - utcnow() > timedelta(hours=8)  # 8.5 h
    assert "SMS held" in await card_text(sms) and "quiet hours" in await card_text(sms)

    sms.now = MORNING_BERLIN
    await sms.make_sms_jobs_due()
    await sms.app.worker.run_until_idle()
    await sms.make_sms_jobs_due()
    await sms.app.worker.run_until_idle()

    [message] = sms.twilio.messages
    [row] = await sms.sms_rows()
    assert row.status == SmsStatus.SENT and row.twilio_sid == message.sid


async def test_stop_then_a_new_failure_sends_no_sms_until_start(sms: SmsHarness) -> None:
    sms.customer()
    await sms.fail_and_approve()
    assert len(sms.twilio.messages) == 1

    response = await sms.inbound("Stop")
    assert response.status_code == 200 and "<Response/>" in response.text
    async with sms.app.runtime.db.sessions() as session:
        assert await session.get(SmsOptOut, PHONE) is not None

    sms.customer("in_sms_2", customer="cus_sms")
    await sms.fail_and_approve("in_sms_2")
    rows = await sms.sms_rows()
    assert len(sms.twilio.messages) == 1
    assert rows[-1].status == SmsStatus.SKIPPED and "STOP" in (rows[-1].last_error or "")

    assert (await sms.inbound("START")).status_code == 200
    async with sms.app.runtime.db.sessions() as session:
        assert await session.get(SmsOptOut, PHONE) is None


async def test_bad_signature_is_403_and_changes_nothing(sms: SmsHarness) -> None:
    response = await sms.inbound("STOP", token="not-the-token")
    assert response.status_code == 403
    async with sms.app.runtime.db.sessions() as session:
        assert await session.scalar(select(SmsOptOut)) is None
    unsigned = await sms.app.http.post("/twilio/sms", content=b"From=%2B1&Body=STOP")
    assert unsigned.status_code == 403
    huge = await sms.app.http.post("/twilio/sms", content=b"x" * 100_000)
    assert huge.status_code == 413


async def test_other_reply_is_posted_in_the_cases_thread(sms: SmsHarness) -> None:
    sms.customer()
    await sms.fail_and_approve()
    card = sms.app.slack.calls_to("chat.postMessage")[0]

    assert (await sms.inbound("I'll pay on Friday <@U123>")).status_code == 200
    await sms.app.worker.run_until_idle()

    posts = sms.app.slack.calls_to("chat.postMessage")
    reply = posts[-1].args
    assert reply.get("thread_ts") == card.response["ts"]
    assert "I'll pay on Friday" in reply["text"] and "<@U123>" not in reply["text"]


async def test_connection_lost_after_the_call_is_unknown_never_resent(sms: SmsHarness) -> None:
    sms.customer()
    sms.twilio.drop_after_create()
    await sms.fail_and_approve()
    await sms.make_sms_jobs_due()
    await sms.app.worker.run_until_idle()

    [row] = await sms.sms_rows()
    assert row.status == SmsStatus.UNKNOWN and len(sms.twilio.messages) == 1


async def test_crash_between_call_and_record_becomes_unknown(sms: SmsHarness) -> None:
    """A worker killed after marking the row `sending` (before or after Twilio answered):
    the job runs again and finds `sending` — unknown for a person, no second message."""
    sms.customer()
    sms.now = NIGHT_BERLIN
    await sms.fail_and_approve()
    async with sms.app.runtime.db.transaction() as session:
        await session.execute(update(OutboxSms).values(status=SmsStatus.SENDING))
    sms.now = MORNING_BERLIN
    await sms.make_sms_jobs_due()
    await sms.app.worker.run_until_idle()

    [row] = await sms.sms_rows()
    assert row.status == SmsStatus.UNKNOWN and sms.twilio.messages == []


async def test_invalid_number_fails_at_once_and_429_is_retried(sms: SmsHarness) -> None:
    sms.customer()
    sms.twilio.fail_next(status=400, code=21211)
    await sms.fail_and_approve()
    [row] = await sms.sms_rows()
    assert row.status == SmsStatus.FAILED and "21211" in (row.last_error or "")
    assert sms.twilio.attempts == 1

    sms.customer("in_sms_2")
    sms.twilio.fail_next(status=429, code=20429)
    await sms.fail_and_approve("in_sms_2")
    await sms.make_sms_jobs_due()
    await sms.app.worker.run_until_idle()
    rows = await sms.sms_rows()
    assert rows[-1].status == SmsStatus.SENT and sms.twilio.attempts == 3
    assert len(sms.twilio.messages) == 1


async def test_opted_out_error_records_the_opt_out(sms: SmsHarness) -> None:
    sms.customer()
    sms.twilio.fail_next(status=400, code=21610)
    await sms.fail_and_approve()
    [row] = await sms.sms_rows()
    assert row.status == SmsStatus.FAILED
    async with sms.app.runtime.db.sessions() as session:
        assert await session.get(SmsOptOut, PHONE) is not None


async def test_the_card_offers_email_only_or_sms_only(sms: SmsHarness) -> None:
    sms.customer()
    await sms.app.fail("in_sms")
    draft = await sms.app.latest_draft("in_sms")
    card = await sms.app.card("approval", draft.id)
    labels = {element["text"]["text"] for element in buttons(card).values()}
    assert {"Approve", "Email only", "SMS only", "Reject"} <= labels
    preview = "Acme: your payment of $49.00 didn't go through. Please pay here: "
    assert preview in message_text(card)

    response = await sms.app.click(ApprovalAction.APPROVE_SMS, FINANCE, card)
    await sms.app.worker.run_until_idle()

    assert response.status_code == 200
    assert len(sms.twilio.messages) == 1 and sms.smtp.messages == []
    again = await sms.app.click(ApprovalAction.APPROVE_EMAIL, FINANCE, card)  # outdated card
    await sms.app.worker.run_until_idle()
    assert again.status_code == 200 and sms.smtp.messages == []
