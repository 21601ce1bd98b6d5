"""Never paid: after the last retry and the grace, a close-out card for a finance approver —
Approve (one cancellation, one mark-uncollectible however often clicked), Postpone 7 days,
Reject; and the card says so when the invoice is paid first."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from recovery.jobkinds import JobKind
from storage.models import CasePlanStatus, CaseStatus
from tests.plans.conftest import (
    INVOICE,
    SUBSCRIPTION,
    add_annual,
    case_of,
    case_plan,
    clock,
    elapse,
    pay_keys,
    queued,
    run_next_retry,
)
from tests.slack_flow.conftest import (
    APPROVALS,
    FINANCE,
    FINANCE_2,
    MANAGER,
    SlackHarness,
    buttons,
    message_text,
)

CLOSEOUT_TEXT = (
    f"Close out: cancel subscription {SUBSCRIPTION} and mark invoice {INVOICE} uncollectible "
    "after 8 failed retries"
)


async def through_the_plan(ph: SlackHarness) -> dict[str, Any]:
    """Eight declined retries, then the 7-day grace: the close-out card, as posted."""
    add_annual(ph.stripe)
    ph.stripe.decline_next_payments(INVOICE, count=8)
    await ph.fail(INVOICE)
    for _ in range(8):
        await run_next_retry(ph)
    row = await case_plan(ph.runtime.db)
    assert row.status == CasePlanStatus.GRACE and row.retries_done == 8
    [closeout] = await queued(ph.runtime.db, JobKind.PLAN_CLOSEOUT)
    assert closeout.run_at - clock(ph).now == timedelta(days=7)
    await ph.worker.run_until_idle()
    assert (await case_plan(ph.runtime.db)).status == CasePlanStatus.GRACE  # not due yet
    await elapse(ph.runtime.db, timedelta(days=7, seconds=1))
    await ph.worker.run_until_idle()
    row = await case_plan(ph.runtime.db)
    assert row.status == CasePlanStatus.AWAITING_APPROVAL
    return await ph.card("plan_closeout", row.id)


async def click(ph: SlackHarness, action_id: str, user: str, card: dict[str, Any]) -> None:
    response = await ph.click(action_id, user, card)
    assert response.status_code == 200
    await ph.worker.run_until_idle()


def writes(ph: SlackHarness) -> tuple[list[Any], list[Any]]:
    cancels = ph.stripe.requests_to(f"/v1/subscriptions/{SUBSCRIPTION}", method="DELETE")
    marks = ph.stripe.requests_to(f"/v1/invoices/{INVOICE}/mark_uncollectible", method="POST")
    return cancels, marks


async def test_the_card_names_what_it_closes_and_offers_three_buttons(ph: SlackHarness) -> None:
    card = await through_the_plan(ph)

    assert card["channel"] == APPROVALS
    assert CLOSEOUT_TEXT in message_text(card)
    labels = {k: b["text"]["text"] for k, b in buttons(card).items()}
    assert labels == {
        "plan_closeout_approve": "Approve",
        "plan_closeout_postpone": "Postpone 7 days",
        "plan_closeout_reject": "Reject",
    }
    assert "confirm" in buttons(card)["plan_closeout_approve"]
    assert writes(ph) == ([], [])


async def test_approve_clicked_by_two_people_cancels_once_and_marks_once(ph: SlackHarness) -> None:
    card = await through_the_plan(ph)

    await click(ph, "plan_closeout_approve", FINANCE, card)
    await click(ph, "plan_closeout_approve", FINANCE_2, card)
    await click(ph, "plan_closeout_approve", FINANCE, card)

    cancels, marks = writes(ph)
    assert len(cancels) == 1 and len(marks) == 1
    assert cancels[0].headers["Idempotency-Key"] == f"dunbot-closeout-{INVOICE}-cancel_subscription"
    subscription = ph.stripe.subscription(SUBSCRIPTION)
    assert subscription["status"] == "canceled"
    assert subscription["metadata"]["dunbot_closeout"] == "true"
    assert ph.stripe.update_invoice(INVOICE)["status"] == "uncollectible"
    assert (await case_of(ph.runtime.db)).status == CaseStatus.UNCOLLECTIBLE
    row = await case_plan(ph.runtime.db)
    assert row.status == CasePlanStatus.CLOSED and row.decided_by == FINANCE
    updated = await ph.card("plan_closeout", row.id)
    assert "Closed out" in message_text(updated)
    assert f"approved by <@{FINANCE}>" in message_text(updated)
    assert buttons(updated) == {}
    told = [m["text"] for m in ph.slack.ephemerals if m.get("user") == FINANCE_2]
    assert any(f"by <@{FINANCE}>" in text for text in told)


async def test_only_finance_approvers_may_close_out(ph: SlackHarness) -> None:
    card = await through_the_plan(ph)

    await click(ph, "plan_closeout_approve", MANAGER, card)

    assert writes(ph) == ([], [])
    assert (await case_plan(ph.runtime.db)).status == CasePlanStatus.AWAITING_APPROVAL
    told = [m["text"] for m in ph.slack.ephemerals if m.get("user") == MANAGER]
    assert any("finance approvers" in text for text in told)


async def test_postpone_moves_the_close_out_by_7_days(ph: SlackHarness) -> None:
    card = await through_the_plan(ph)

    await click(ph, "plan_closeout_postpone", FINANCE, card)

    row = await case_plan(ph.runtime.db)
    assert row.status == CasePlanStatus.POSTPONED
    [again] = await queued(ph.runtime.db, JobKind.PLAN_CLOSEOUT)
    assert again.run_at == clock(ph).now + timedelta(days=7)
    assert "Postponed by" in message_text(await ph.card("plan_closeout", row.id))
    await elapse(ph.runtime.db, timedelta(days=7, seconds=1))
    await ph.worker.run_until_idle()
    back = await ph.card("plan_closeout", row.id)
    assert (await case_plan(ph.runtime.db)).status == CasePlanStatus.AWAITING_APPROVAL
    assert "plan_closeout_approve" in buttons(back)
    assert writes(ph) == ([], [])


async def test_reject_keeps_the_subscription_and_the_invoice_open(ph: SlackHarness) -> None:
    card = await through_the_plan(ph)

    await click(ph, "plan_closeout_reject", FINANCE, card)
    await click(ph, "plan_closeout_approve", FINANCE_2, card)  # too late: rejected

    assert writes(ph) == ([], [])
    assert ph.stripe.subscription(SUBSCRIPTION)["status"] == "active"
    assert (await case_plan(ph.runtime.db)).status == CasePlanStatus.REJECTED
    assert (await case_of(ph.runtime.db)).status != CaseStatus.UNCOLLECTIBLE


async def test_a_payment_before_the_decision_updates_the_card(ph: SlackHarness) -> None:
    card = await through_the_plan(ph)

    await ph.pay(INVOICE)
    await click(ph, "plan_closeout_approve", FINANCE, card)

    assert writes(ph) == ([], [])
    row = await case_plan(ph.runtime.db)
    assert row.status == CasePlanStatus.STOPPED
    text = message_text(await ph.card("plan_closeout", row.id))
    assert "Nothing to close out: invoice paid" in text
    assert len(pay_keys(ph.stripe)) == 8
    assert [j for j in await queued(ph.runtime.db) if j.kind.startswith("plan_")] == []
