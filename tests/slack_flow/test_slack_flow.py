"""Slack end to end: cards posted and updated in place, buttons, modals, /dunning,
authorisation, double clicks, outdated cards, 429 and signature checks."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from bot.adapters.mail.file import list_outbox
from bot.slack.ids import (
    ApprovalAction,
    EditDraftField,
    ModalCallback,
    RegenerateDraftField,
    RejectDraftField,
    VipAction,
)
from bot.wiring import job_handlers
from recovery.jobkinds import JobKind
from storage.models import Draft, DraftStatus, Job, OutboxEmail, Pause
from tests.slack_flow.conftest import (
    APPROVALS,
    FINANCE,
    FINANCE_2,
    MANAGER,
    OUTSIDER,
    SlackHarness,
    add_standard,
    add_vip,
    buttons,
    message_text,
)


async def approval_card(sh: SlackHarness, invoice_id: str = "in_std") -> dict:
    draft = await sh.latest_draft(invoice_id)
    return await sh.card("approval", draft.id)


async def test_failure_posts_an_approval_card_naming_invoice_and_customer(
    sh: SlackHarness,
) -> None:
    add_standard(sh.stripe)
    await sh.fail("in_std")
    [post] = sh.slack.calls_to("chat.postMessage")
    assert post.args["channel"] == APPROVALS
    card = await approval_card(sh)
    number = sh.stripe.update_invoice("in_std")["number"]
    assert number in card["text"] and "ana@example.com" in card["text"]
    labels = {b["text"]["text"] for b in buttons(card).values()}
    assert {"Approve", "Edit", "Regenerate", "Reject"} <= labels
    assert "confirm" in buttons(card)[ApprovalAction.APPROVE]
    assert "$49.00" in message_text(card) and "expired" in message_text(card).lower()


async def test_approve_sends_one_email_and_updates_the_card_in_place(sh: SlackHarness) -> None:
    add_standard(sh.stripe)
    await sh.fail("in_std")
    card = await approval_card(sh)
    response = await sh.click(ApprovalAction.APPROVE, FINANCE, card)
    assert response.status_code == 200
    await sh.worker.run_until_idle()
    [email] = list_outbox(sh.outbox)
    assert email.to_addr == "ana@example.com" and "$49.00" in email.text
    updated = await approval_card(sh)
    assert ApprovalAction.APPROVE not in buttons(updated)
    text = message_text(updated).lower()
    assert "sent" in text and f"<@{FINANCE.lower()}>" in text
    assert len(sh.slack.calls_to("chat.postMessage")) == 1  # updated, never re-posted


async def test_outsider_click_is_refused_ephemerally_and_changes_nothing(
    sh: SlackHarness,
) -> None:
    add_standard(sh.stripe)
    await sh.fail("in_std")
    card = await approval_card(sh)
    response = await sh.click(ApprovalAction.APPROVE, OUTSIDER, card)
    assert response.status_code == 200
    await sh.worker.run_until_idle()
    [ephemeral] = sh.slack.ephemerals
    assert ephemeral["user"] == OUTSIDER and "FINANCE_APPROVERS" in ephemeral["text"]
    assert (await sh.latest_draft("in_std")).status == DraftStatus.PENDING
    manager_click = await sh.click(ApprovalAction.APPROVE, MANAGER, card)
    assert manager_click.status_code == 200
    assert (await sh.latest_draft("in_std")).status == DraftStatus.PENDING


async def test_two_people_approving_at_once_send_one_email(sh: SlackHarness) -> None:
    add_standard(sh.stripe)
    await sh.fail("in_std")
    card = await approval_card(sh)
    first, second = await asyncio.gather(
        sh.click(ApprovalAction.APPROVE, FINANCE, card),
        sh.click(ApprovalAction.APPROVE, FINANCE_2, card),
    )
    assert first.status_code == second.status_code == 200
    await sh.worker.run_until_idle()
    assert len(list_outbox(sh.outbox)) == 1
    async with sh.runtime.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxEmail)) == 1
    texts = [e["text"] for e in sh.slack.ephemerals]
    assert any("already approved by <@" in t for t in texts)


async def test_click_on_card_of_a_paid_invoice_changes_nothing_and_says_why(
    sh: SlackHarness,
) -> None:
    add_standard(sh.stripe)
    await sh.fail("in_std")
    stale_card = await approval_card(sh)
    await sh.pay("in_std")
    updated = await approval_card(sh)
    assert "paid" in message_text(updated).lower()
    assert ApprovalAction.APPROVE not in buttons(updated)
    response = await sh.click(ApprovalAction.APPROVE, FINANCE, stale_card)
    assert response.status_code == 200
    await sh.worker.run_until_idle()
    assert "already paid" in sh.slack.ephemerals[-1]["text"]
    assert list_outbox(sh.outbox) == []


async def test_reject_modal_records_reason_and_removes_buttons(sh: SlackHarness) -> None:
    add_standard(sh.stripe)
    await sh.fail("in_std")
    card = await approval_card(sh)
    assert (await sh.click(ApprovalAction.REJECT, FINANCE, card)).status_code == 200
    [opened] = sh.slack.calls_to("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == ModalCallback.REJECT_DRAFT
    response = await sh.submit(
        ModalCallback.REJECT_DRAFT,
        view["private_metadata"],
        {RejectDraftField.REASON.block_id: {RejectDraftField.REASON.action_id: "phoned them"}},
        FINANCE,
    )
    assert response.status_code == 200
    await sh.worker.run_until_idle()
    draft = await sh.latest_draft("in_std")
    assert draft.status == DraftStatus.REJECTED and draft.reject_reason == "phoned them"
    updated = await approval_card(sh)
    assert not buttons(updated) and "rejected" in message_text(updated).lower()


async def test_edit_goes_through_guardrails(sh: SlackHarness) -> None:
    add_standard(sh.stripe)
    await sh.fail("in_std")
    card = await approval_card(sh)
    await sh.click(ApprovalAction.EDIT, FINANCE, card)
    [opened] = sh.slack.calls_to("views.open")
    meta = opened.args["view"]["private_metadata"]
    subject, body = EditDraftField.SUBJECT, EditDraftField.BODY
    hostile = {
        subject.block_id: {subject.action_id: "Payment"},
        body.block_id: {body.action_id: "Reply with your card number and CVV please."},
    }
    response = await sh.submit(ModalCallback.EDIT_DRAFT, meta, hostile, FINANCE)
    assert response.status_code == 200
    assert response.json()["response_action"] == "errors"
    assert (await sh.latest_draft("in_std")).body != hostile[body.block_id][body.action_id]
    good = {
        subject.block_id: {subject.action_id: "About your payment"},
        body.block_id: {body.action_id: "Your card has expired. Please update it soon."},
    }
    response = await sh.submit(ModalCallback.EDIT_DRAFT, meta, good, FINANCE)
    assert response.status_code == 200 and not response.content
    draft = await sh.latest_draft("in_std")
    assert draft.body == "Your card has expired. Please update it soon."
    assert draft.edited_by == FINANCE


async def test_regenerate_acks_at_once_and_drafts_in_a_job(sh: SlackHarness) -> None:
    add_standard(sh.stripe)
    await sh.fail("in_std")
    card = await approval_card(sh)
    await sh.click(ApprovalAction.REGENERATE, FINANCE, card)
    [opened] = sh.slack.calls_to("views.open")
    field = RegenerateDraftField.INSTRUCTION
    response = await asyncio.wait_for(
        sh.submit(
            ModalCallback.REGENERATE_DRAFT,
            opened.args["view"]["private_metadata"],
            {field.block_id: {field.action_id: "warmer please"}},
            FINANCE,
        ),
        timeout=3,
    )
    assert response.status_code == 200
    async with sh.runtime.db.sessions() as session:
        queued = (
            await session.scalars(
                select(Job).where(Job.kind == "draft_email", Job.status == "queued")
            )
        ).all()
    assert [j.payload["instruction"] for j in queued] == ["warmer please"]
    await sh.worker.run_until_idle()
    async with sh.runtime.db.sessions() as session:
        drafts = (await session.scalars(select(Draft).order_by(Draft.id))).all()
    assert [d.status for d in drafts] == [DraftStatus.SUPERSEDED, DraftStatus.PENDING]
    assert len(sh.slack.calls_to("chat.postMessage")) == 2


async def test_vip_task_claim_by_manager_shows_owner_and_refuses_second_claim(
    sh: SlackHarness,
) -> None:
    add_vip(sh.stripe)
    await sh.fail("in_vip")
    task = await sh.task("in_vip")
    card = await sh.card("vip_task", task.id)
    assert "URGENT" in message_text(card) and VipAction.CLAIM in buttons(card)
    assert (await sh.click(VipAction.CLAIM, FINANCE, card)).status_code == 200
    assert (await sh.click(VipAction.CLAIM, MANAGER, card)).status_code == 200
    await sh.worker.run_until_idle()
    claimed = await sh.card("vip_task", task.id)
    assert f"<@{MANAGER}>" in message_text(claimed)
    assert VipAction.CLAIM not in buttons(claimed) and VipAction.DONE in buttons(claimed)
    await sh.click(VipAction.CLAIM, MANAGER, card)  # stale card, second click
    await sh.worker.run_until_idle()
    assert "already claimed" in sh.slack.ephemerals[-1]["text"]
    await sh.pay("in_vip")
    resolved = await sh.card("vip_task", task.id)
    assert "resolved" in message_text(resolved).lower() and not buttons(resolved)


async def test_rate_limited_post_is_retried_after_retry_after(sh: SlackHarness) -> None:
    add_standard(sh.stripe)
    sh.slack.rate_limit_next("chat.postMessage", retry_after=30)
    await sh.fail("in_std")
    async with sh.runtime.db.sessions() as session:
        notify = await session.scalar(select(Job).where(Job.kind == "notify"))
    assert notify is not None and notify.status == "queued" and notify.attempts == 0
    assert 25 < (notify.run_at.timestamp() - time.time()) <= 31
    async with sh.runtime.db.transaction() as session:
        due_now = await session.get(Job, notify.id)
        assert due_now is not None
        due_now.run_at = due_now.created_at
    await sh.worker.run_until_idle()
    card = await approval_card(sh)
    assert ApprovalAction.APPROVE in buttons(card)


async def test_dunning_command_pause_status_and_garbage(sh: SlackHarness) -> None:
    add_standard(sh.stripe)
    await sh.fail("in_std")
    response = await sh.command("pause cus_std for 30d customer on holiday", FINANCE)
    assert response.status_code == 200 and "paused" in response.text
    async with sh.runtime.db.sessions() as session:
        pause = await session.get(Pause, "cus_std")
    assert pause is not None and pause.reason == "customer on holiday"
    status = await sh.command("status ana@example.com", MANAGER)
    assert "paused by <@UFIN>" in status.text
    garbage = await sh.command("frobnicate now", FINANCE)
    assert garbage.status_code == 200
    assert all(word in garbage.text for word in ("pause", "resume", "status", "list"))
    refused = await sh.command("list", OUTSIDER)
    assert refused.status_code == 200 and "Only finance" in refused.text
    unknown = await sh.command("status nobody@example.com", FINANCE)
    assert "Looking that customer up" in unknown.text
    await sh.worker.run_until_idle()
    assert "No customer" in sh.slack.ephemerals[-1]["text"]
    typo = await sh.command("pause cus_doesnotexist for 2w", FINANCE)
    assert "Looking that customer up" in typo.text
    await sh.worker.run_until_idle()
    assert "No customer with `cus_doesnotexist`" in sh.slack.ephemerals[-1]["text"]
    async with sh.runtime.db.sessions() as session:
        assert await session.get(Pause, "cus_doesnotexist") is None
    sh.stripe.add_customer(id="cus_new", email="new@example.com", name="New Co")
    known_in_stripe = await sh.command("pause cus_new for 2w card swap", FINANCE)
    assert "Looking that customer up" in known_in_stripe.text
    await sh.worker.run_until_idle()
    assert (
        "Dunning paused for New Co (new@example.com) `cus_new`" in sh.slack.ephemerals[-1]["text"]
    )
    async with sh.runtime.db.sessions() as session:
        pause = await session.get(Pause, "cus_new")
    assert pause is not None and pause.reason == "card swap"


async def test_bad_or_stale_signature_is_401(sh: SlackHarness) -> None:
    add_standard(sh.stripe)
    await sh.fail("in_std")
    card = await approval_card(sh)
    from tests.fakes.slack_requests import block_action_body

    body = block_action_body(
        ApprovalAction.APPROVE,
        buttons(card)[ApprovalAction.APPROVE]["value"],
        FINANCE,
        card["channel"],
        card["ts"],
    )
    assert (await sh.post(body, secret="wrong")).status_code == 401
    stale = int(time.time()) - 6 * 60
    assert (await sh.post(body, timestamp=stale)).status_code == 401
    assert (await sh.latest_draft("in_std")).status == DraftStatus.PENDING


def test_every_job_kind_has_one_handler_when_slack_is_wired(sh: SlackHarness) -> None:
    assert set(job_handlers(sh.runtime)) == set(JobKind)
