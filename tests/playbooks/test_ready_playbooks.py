"""The example playbooks end to end against the fake Stripe and Slack: what each does,
at most once, with approval, in dry-run, and with hostile customer data."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from bot.playbooks.slack_cards import APPROVE_ACTION_ID, REJECT_ACTION_ID
from bot.playbooks.slack_cards import button_value as playbook_button_value
from storage.models import PlaybookActionStatus, SlackMessage
from tests.fakes.slack_requests import block_action_body
from tests.playbooks.conftest import (
    ALERTS,
    COLLECTIONS,
    TEAM,
    actions,
    audit_actions,
    deliver,
    firings,
)
from tests.slack_flow.conftest import FINANCE, FINANCE_2, OUTSIDER, SlackHarness, message_text


def channel_texts(harness: SlackHarness, channel: str) -> list[str]:
    return [
        message_text(message)
        for (where, _ts), message in harness.slack.messages.items()
        if where == channel
    ]


def outbox_texts(harness: SlackHarness) -> list[str]:
    if not harness.outbox.exists():
        return []
    return [p.read_text() for p in sorted(harness.outbox.iterdir()) if p.is_file()]


def fraud_warning(harness: SlackHarness, amount: int, currency: str = "usd") -> dict[str, Any]:
    harness.stripe.add_customer(id="cus_fraud", email="fraud@example.com")
    charge = harness.stripe.add_charge(
        id="ch_fraud", amount=amount, currency=currency, customer="cus_fraud"
    )
    return harness.stripe.add_early_fraud_warning(charge=charge["id"])


async def test_payment_over_1000_usd_alerts_the_team_and_emails_team_email(
    pb: SlackHarness,
) -> None:
    pb.stripe.add_customer(id="cus_big", email="big@example.com", name="Big Buyer")
    intent = pb.stripe.add_payment_intent(
        amount=150_000, currency="usd", customer="cus_big", status="succeeded"
    )
    await deliver(pb, "payment_intent.succeeded", intent)

    [alert] = channel_texts(pb, ALERTS)
    assert "cus_big" in alert and "$1,500.00" in alert
    [email] = outbox_texts(pb)
    assert f"To: {TEAM}" in email and "cus_big" in email and "$1,500.00" in email
    assert pb.stripe.requests_to("/v1/customers/cus_big", method="POST") == []  # < 2,000 USD


async def test_payment_over_2000_usd_marks_the_customer_vip_once(pb: SlackHarness) -> None:
    pb.stripe.add_customer(id="cus_huge", email="huge@example.com")
    intent = pb.stripe.add_payment_intent(amount=250_000, customer="cus_huge", status="succeeded")
    event = await deliver(pb, "payment_intent.succeeded", intent)
    await deliver(pb, "payment_intent.succeeded", intent, event_id=event["id"])  # duplicate

    assert pb.stripe.customer("cus_huge")["metadata"] == {"dunbot_tier": "vip"}
    [write] = pb.stripe.requests_to("/v1/customers/cus_huge", method="POST")
    assert write.headers["Idempotency-Key"].startswith("dunbot-playbook-")

    second = pb.stripe.add_payment_intent(amount=300_000, customer="cus_huge", status="succeeded")
    await deliver(pb, "payment_intent.succeeded", second)  # another event: already VIP
    assert len(pb.stripe.requests_to("/v1/customers/cus_huge", method="POST")) == 1
    results = [a.result for a in await actions(pb) if a.type == "set_customer_metadata"]
    assert results == [
        "set metadata dunbot_tier=vip on cus_huge",
        "metadata dunbot_tier=vip already set on cus_huge: nothing done",
    ]


async def test_payment_in_another_currency_never_matches_a_usd_rule(pb: SlackHarness) -> None:
    pb.stripe.add_customer(id="cus_eur")
    intent = pb.stripe.add_payment_intent(amount=900_000, currency="eur", customer="cus_eur")
    await deliver(pb, "payment_intent.succeeded", intent)
    assert await firings(pb) == [] and channel_texts(pb, ALERTS) == []


async def test_small_fraud_warning_refunds_once_without_asking(pb: SlackHarness) -> None:
    warning = fraud_warning(pb, 1_200)
    event = await deliver(pb, "radar.early_fraud_warning.created", warning)
    await deliver(pb, "radar.early_fraud_warning.created", warning, event_id=event["id"])

    [refund] = pb.stripe.refunds
    assert refund["charge"] == "ch_fraud" and refund["amount"] == 1_200
    assert refund["reason"] == "fraudulent"
    assert channel_texts(pb, ALERTS) == []  # no card below the threshold
    logged = [(e.action, e.detail["rule"]) for e in await audit_actions(pb)]
    assert logged == [
        ("playbook.matched", "Early fraud warning: refund"),
        ("playbook.action_done", "Early fraud warning: refund"),
    ]
    assert all(e.detail["rule_version"] for e in await audit_actions(pb))


async def test_fraud_warning_on_a_refunded_charge_does_nothing(pb: SlackHarness) -> None:
    warning = fraud_warning(pb, 1_200)
    pb.stripe.add_charge(id="ch_fraud", amount=1_200, refunded=True, amount_refunded=1_200)
    await deliver(pb, "radar.early_fraud_warning.created", warning)
    assert pb.stripe.refunds == [] and await firings(pb) == []  # condition charge.refunded = false


async def card_of_first_action(harness: SlackHarness) -> dict[str, Any]:
    [action] = await actions(harness)
    async with harness.runtime.db.sessions() as session:
        row = await session.scalar(
            select(SlackMessage).where(
                SlackMessage.card_kind == "playbook_action", SlackMessage.subject_id == action.id
            )
        )
    assert row is not None and row.ts
    return harness.slack.message(row.channel, row.ts) | {"ts": row.ts, "channel": row.channel}


async def click(harness: SlackHarness, action_id: str, user: str, card: dict[str, Any]) -> None:
    from tests.slack_flow.conftest import button_value

    body = block_action_body(
        action_id, button_value(card, action_id), user, card["channel"], card["ts"]
    )
    response = await harness.post(body)
    assert response.status_code == 200
    await harness.worker.run_until_idle()


async def test_large_fraud_warning_waits_for_refund_click_once(pb: SlackHarness) -> None:
    warning = fraud_warning(pb, 2_000)
    await deliver(pb, "radar.early_fraud_warning.created", warning)
    assert pb.stripe.refunds == []
    card = await card_of_first_action(pb)
    assert card["channel"] == ALERTS
    assert "Refund" in message_text(card) and "$20.00" in message_text(card)

    await click(pb, APPROVE_ACTION_ID, OUTSIDER, card)  # not a finance approver
    assert pb.stripe.refunds == []
    await click(pb, APPROVE_ACTION_ID, FINANCE, card)
    await click(pb, APPROVE_ACTION_ID, FINANCE_2, card)  # second click: refused
    await click(pb, REJECT_ACTION_ID, FINANCE_2, card)

    assert len(pb.stripe.refunds) == 1
    ephemerals = [e["text"] for e in pb.slack.ephemerals]
    assert "Only the finance approvers" in ephemerals[0]
    assert ephemerals[2] == f"Already done by <@{FINANCE}>; nothing changed."
    updated = message_text(await card_of_first_action(pb))
    assert f"approved by <@{FINANCE}>" in updated and APPROVE_ACTION_ID not in updated


async def test_refund_button_with_another_cards_value_is_refused(pb: SlackHarness) -> None:
    await deliver(pb, "radar.early_fraud_warning.created", fraud_warning(pb, 2_000))
    first = await card_of_first_action(pb)
    pb.stripe.add_charge(id="ch_other", amount=3_000, currency="usd", customer="cus_fraud")
    await deliver(
        pb,
        "radar.early_fraud_warning.created",
        pb.stripe.add_early_fraud_warning(charge="ch_other"),
    )
    [_, second] = await actions(pb)  # the first card's button, the second card's value:
    second_value = playbook_button_value(second.id)
    body = block_action_body(
        APPROVE_ACTION_ID, second_value, FINANCE, first["channel"], first["ts"]
    )
    response = await pb.post(body)
    await pb.worker.run_until_idle()

    assert response.status_code == 200
    assert pb.stripe.refunds == []
    assert "does not belong to the card" in pb.slack.ephemerals[-1]["text"]
    assert {a.status for a in await actions(pb)} == {PlaybookActionStatus.AWAITING_APPROVAL}


async def test_rejected_refund_is_never_made(pb: SlackHarness) -> None:
    await deliver(pb, "radar.early_fraud_warning.created", fraud_warning(pb, 5_000))
    card = await card_of_first_action(pb)
    await click(pb, REJECT_ACTION_ID, FINANCE, card)
    await click(pb, APPROVE_ACTION_ID, FINANCE_2, card)
    assert pb.stripe.refunds == []
    [action] = await actions(pb)
    assert action.status == PlaybookActionStatus.REJECTED and action.decided_by == FINANCE


async def test_dry_run_writes_nothing_and_says_what_it_would_have_done(
    pb_dry: SlackHarness,
) -> None:
    await deliver(pb_dry, "radar.early_fraud_warning.created", fraud_warning(pb_dry, 1_200))
    pb_dry.stripe.add_customer(id="cus_huge")
    intent = pb_dry.stripe.add_payment_intent(amount=250_000, customer="cus_huge")
    await deliver(pb_dry, "payment_intent.succeeded", intent)

    assert pb_dry.stripe.refunds == []
    assert pb_dry.stripe.requests_to("/v1/customers", method="POST") == []
    assert not pb_dry.outbox.exists() or outbox_texts(pb_dry) == []
    texts = " ".join(channel_texts(pb_dry, ALERTS))
    assert "would have:\n1. would refund charge ch_fraud in full ($12.00)" in texts
    assert "\n2. would email team@example.com: Thank-you note for cus_huge" in texts  # one a line
    assert "would set metadata dunbot_tier=vip on customer cus_huge" in texts


async def test_customer_name_cannot_mention_channel(pb: SlackHarness) -> None:
    pb.stripe.add_customer(id="cus_evil", email="<!channel>@x.example", name="<!channel>")
    intent = pb.stripe.add_payment_intent(amount=150_000, customer="cus_evil")
    await deliver(pb, "payment_intent.succeeded", intent)
    [alert] = channel_texts(pb, ALERTS)
    assert "<!channel>" not in alert and "&lt;!channel&gt;" in alert


async def test_overdue_invoice_over_500_usd_goes_to_collections_once(pb: SlackHarness) -> None:
    pb.stripe.add_customer(id="cus_late")
    invoice = pb.stripe.add_invoice(
        id="in_late",
        customer="cus_late",
        amount_due=60_000,
        number="INV-42",
        due_date=int(time.time()) - 3 * 86_400 - 60,
    )
    event = await deliver(pb, "invoice.overdue", invoice)
    await deliver(pb, "invoice.overdue", invoice, event_id=event["id"])
    [alert] = channel_texts(pb, COLLECTIONS)
    assert "INV-42" in alert and "in_late" in alert and "$600.00" in alert
    assert "3 days overdue" in alert
