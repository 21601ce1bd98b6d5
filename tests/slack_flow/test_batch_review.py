"""Batch review of bursts: the real Bolt app against the fake Slack, signed requests, the
template drafter, the file outbox; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.adapters.mail.file import list_outbox
from bot.slack.blocks.batch import BATCH_BLOCK_ID
from bot.slack.ids import ApprovalAction, BatchAction, EditDraftField
from bot.slack.notifier import BATCH_MESSAGE, ChannelPacer
from recovery import batches as batches_module
from recovery import decisions as decisions_module
from recovery.jobkinds import JobKind
from storage.models import (
    Case,
    Draft,
    OutboxEmail,
    ReviewBatch,
    ReviewBatchDraft,
    SlackMessage,
)
from storage.worker import Worker
from tests.fakes.slack_requests import view_block_action_body
from tests.fakes.slack_server import FakeSlack
from tests.fakes.stripe_events import build_event, store_events
from tests.fakes.stripe_server import FakeStripe
from tests.slack_flow.conftest import (
    APPROVALS,
    FINANCE,
    FINANCE_2,
    OUTSIDER,
    SlackHarness,
    button_value,
    buttons,
    message_text,
    wired_harness,
)

THRESHOLD = 10
GROUPS = (("expired_card", "usd"), ("insufficient_funds", "usd"), ("expired_card", "eur"))


@pytest.fixture
async def bh(
    database_url: str, fake_slack: FakeSlack, fake_stripe: FakeStripe, tmp_path: Path
) -> AsyncIterator[SlackHarness]:
    """The wired harness with batch review on (more than 10 drafts in 5 minutes)."""
    async with wired_harness(
        database_url,
        fake_slack,
        fake_stripe,
        tmp_path,
        email_backend="file",
        email_outbox_dir=tmp_path / "outbox",
        batch_review_threshold=THRESHOLD,
        batch_review_window_s=300,
    ) as harness:
        assert harness.runtime.slack is not None
        harness.runtime.slack.notifier.batch_refresh_s = 0  # every change updates at once
        yield harness


def add_failure(
    stripe: FakeStripe, n: int, *, decline: str = "expired_card", currency: str = "usd"
) -> str:
    invoice_id = f"in_b{n}"
    stripe.add_customer(
        id=f"cus_b{n}", email=f"c{n}@example.com", name=f"Customer {n}", currency=currency
    )
    stripe.add_invoice(
        id=invoice_id,
        customer=f"cus_b{n}",
        currency=currency,
        amount_due=1_000 + n,
        attempt_count=1,
        next_payment_attempt=2_000_000_000,
    )
    stripe.add_failed_payment(invoice_id, decline_code=decline, code=decline)
    return invoice_id


async def burst(
    sh: SlackHarness, count: int, *, start: int = 0, groups: tuple[tuple[str, str], ...] = GROUPS
) -> list[str]:
    """`count` failures at once, spread over `groups`; every job run."""
    invoices = []
    for n in range(start, start + count):
        decline, currency = groups[n % len(groups)]
        invoices.append(add_failure(sh.stripe, n, decline=decline, currency=currency))
    events = [
        build_event("invoice.payment_failed", sh.stripe.update_invoice(invoice_id))
        for invoice_id in invoices
    ]
    await store_events(sh.runtime.db, *events)
    await sh.worker.run_until_idle()
    return invoices


def top_level_posts(sh: SlackHarness) -> list[Any]:
    return [
        c
        for c in sh.slack.calls_to("chat.postMessage")
        if c.args["channel"] == APPROVALS and not c.args.get("thread_ts")
    ]


async def batch_messages(sh: SlackHarness) -> dict[int, dict[str, Any]]:
    """batch id → its message as the fake Slack shows it now."""
    async with sh.runtime.db.sessions() as session:
        rows = (
            await session.scalars(
                select(SlackMessage).where(SlackMessage.card_kind == BATCH_MESSAGE)
            )
        ).all()
    return {
        row.subject_id: sh.slack.message(row.channel, row.ts)
        | {"ts": row.ts, "channel": row.channel}
        for row in rows
        if row.ts
    }


async def members(sh: SlackHarness, batch_id: int) -> list[str]:
    """The invoice ids a batch lists."""
    async with sh.runtime.db.sessions() as session:
        rows = await session.scalars(
            select(Case.invoice_id)
            .join(ReviewBatchDraft, ReviewBatchDraft.case_id == Case.id)
            .where(ReviewBatchDraft.batch_id == batch_id)
            .order_by(ReviewBatchDraft.id)
        )
        return list(rows)


def emails_to(sh: SlackHarness) -> list[str]:
    return sorted(email.to_addr for email in list_outbox(sh.outbox))


async def test_fifty_drafts_in_a_burst_make_a_few_batch_messages_not_fifty_cards(
    bh: SlackHarness,
) -> None:
    await burst(bh, 50)

    cards = [c for c in bh.slack.calls_to("chat.postMessage") if "Approval needed" in str(c.args)]
    assert len(cards) == THRESHOLD  # the first drafts of the burst still get their own cards
    batches = await batch_messages(bh)
    assert len(batches) == len(GROUPS)  # one batch message per group for the other 40
    listed = [invoice for batch_id in batches for invoice in await members(bh, batch_id)]
    assert len(listed) == len(set(listed)) == 50 - THRESHOLD
    assert len(top_level_posts(bh)) < 15  # cards (some in the digest's thread) + batches
    for batch_id, message in batches.items():
        count = len(await members(bh, batch_id))
        labels = {b["text"]["text"] for b in buttons(message).values()}
        assert f"Approve all {count}" in labels and "Reject all" in labels
        assert any(b.get("block_id") == BATCH_BLOCK_ID for b in message["blocks"])
        assert "Batch review" in message["text"]


async def test_below_the_threshold_each_draft_gets_its_own_card(bh: SlackHarness) -> None:
    await burst(bh, THRESHOLD)

    assert await batch_messages(bh) == {}
    async with bh.runtime.db.sessions() as session:
        drafts = await session.scalar(select(func.count(Draft.id)))
        cards = await session.scalar(
            select(func.count(SlackMessage.id)).where(SlackMessage.card_kind == "approval")
        )
        assert await session.scalar(select(func.count(ReviewBatch.id))) == 0
    assert drafts == cards == THRESHOLD


async def test_approve_all_sends_exactly_the_listed_drafts_once(bh: SlackHarness) -> None:
    await burst(bh, 40)
    batches = await batch_messages(bh)
    batch_id, message = next(iter(batches.items()))
    listed = await members(bh, batch_id)
    assert len(listed) == 10

    response = await bh.click(BatchAction.APPROVE_ALL, FINANCE, message)
    assert response.status_code == 200
    await bh.worker.run_until_idle()

    expected = sorted(f"c{invoice.removeprefix('in_b')}@example.com" for invoice in listed)
    assert emails_to(bh) == expected
    updated = (await batch_messages(bh))[batch_id]
    text = message_text(updated)
    assert f"{len(listed)} sent" in text and f"<@{FINANCE}>" in text
    assert BatchAction.APPROVE_ALL not in buttons(updated)  # decided: no Approve all any more

    # A second approver on the same (stale) message: refused, nothing sent again.
    await bh.click(BatchAction.APPROVE_ALL, FINANCE_2, message)
    await bh.worker.run_until_idle()
    assert emails_to(bh) == expected
    assert "already approved" in bh.slack.ephemerals[-1]["text"]


async def test_only_finance_approvers_may_approve_a_batch(bh: SlackHarness) -> None:
    await burst(bh, 14, groups=GROUPS[:1])
    [message] = (await batch_messages(bh)).values()

    response = await bh.click(BatchAction.APPROVE_ALL, OUTSIDER, message)
    await bh.worker.run_until_idle()

    assert response.status_code == 200
    assert "Only the finance approvers" in bh.slack.ephemerals[-1]["text"]
    assert list_outbox(bh.outbox) == []


async def test_approve_all_skips_drafts_paid_edited_or_paused_since_and_says_why(
    bh: SlackHarness,
) -> None:
    invoices = await burst(bh, THRESHOLD + 3 * 4)  # 12 batched: 4 per group
    batches = await batch_messages(bh)
    batch_id, message = next(iter(batches.items()))
    paid, edited, paused, *rest = await members(bh, batch_id)
    assert paid in invoices

    await bh.pay(paid)  # paid after the message was rendered
    async with bh.runtime.db.transaction() as session:  # edited after it was rendered
        case = await session.scalar(select(Case).where(Case.invoice_id == edited))
        assert case is not None
        draft = await session.scalar(select(Draft).where(Draft.case_id == case.id))
        assert draft is not None
        draft.version += 1
        draft.body = "An edited body."
    customer = f"cus_b{paused.removeprefix('in_b')}"
    await bh.command(f"pause {customer} for 7d", FINANCE)
    await bh.worker.run_until_idle()

    await bh.click(BatchAction.APPROVE_ALL, FINANCE, message)
    await bh.worker.run_until_idle()

    sent = emails_to(bh)
    assert sent == sorted(f"c{i.removeprefix('in_b')}@example.com" for i in rest)
    text = message_text((await batch_messages(bh))[batch_id])
    assert "edited after it was listed" in text
    assert "dunning paused" in text
    assert "invoice paid" in text
    assert f"{len(rest)} sent" in text


async def test_reject_all_sends_nothing_and_says_so(bh: SlackHarness) -> None:
    await burst(bh, 14, groups=GROUPS[:1])
    [(batch_id, message)] = (await batch_messages(bh)).items()

    await bh.click(BatchAction.REJECT_ALL, FINANCE, message)
    await bh.worker.run_until_idle()

    assert list_outbox(bh.outbox) == []
    text = message_text((await batch_messages(bh))[batch_id])
    assert "4 rejected" in text and "Batch rejected" in text
    async with bh.runtime.db.sessions() as session:
        statuses = set(
            await session.scalars(
                select(Draft.status)
                .join(ReviewBatchDraft, ReviewBatchDraft.draft_id == Draft.id)
                .where(ReviewBatchDraft.batch_id == batch_id)
            )
        )
    assert statuses == {"rejected"}


async def test_a_batch_button_on_another_message_is_refused(bh: SlackHarness) -> None:
    await burst(bh, 14, groups=GROUPS[:1])
    [message] = (await batch_messages(bh)).values()
    async with bh.runtime.db.sessions() as session:
        card = await session.scalar(
            select(SlackMessage).where(SlackMessage.card_kind == "approval")
        )
    assert card is not None and card.ts
    other = bh.slack.message(card.channel, card.ts) | {"ts": card.ts, "channel": card.channel}
    forged = other | {"blocks": message["blocks"]}  # the batch's buttons on a card's message

    await bh.click(BatchAction.APPROVE_ALL, FINANCE, forged)
    await bh.worker.run_until_idle()

    assert list_outbox(bh.outbox) == []
    assert "does not belong" in bh.slack.ephemerals[-1]["text"]
    assert ApprovalAction.APPROVE in buttons(other)


async def test_twenty_notify_jobs_at_once_join_one_batch_per_group(bh: SlackHarness) -> None:
    count = 24
    for n in range(count):
        decline, currency = GROUPS[n % 2]
        invoice_id = add_failure(bh.stripe, n, decline=decline, currency=currency)
        event = build_event("invoice.payment_failed", bh.stripe.update_invoice(invoice_id))
        await store_events(bh.runtime.db, event)
    handlers = dict(bh.worker.handlers)
    notify = handlers.pop(JobKind.NOTIFY)
    await Worker(bh.runtime.db, handlers).run_until_idle()  # events and drafts, no cards yet

    outcomes: list[str] = []
    all_done = asyncio.Event()

    def observe(*, kind: str, outcome: str, duration_s: float) -> None:
        outcomes.append(outcome)
        if outcomes.count("succeeded") >= count + 2:  # every draft, then both batch messages
            all_done.set()

    cards = Worker(
        bh.runtime.db, {JobKind.NOTIFY: notify}, concurrency=count, poll_s=0.05, observer=observe
    )
    stop = asyncio.Event()
    running = asyncio.create_task(cards.run(stop))
    await asyncio.wait_for(all_done.wait(), 30)
    stop.set()
    await running
    await bh.worker.run_until_idle()

    assert set(outcomes) <= {"succeeded", "rescheduled"}  # nobody failed joining a batch
    batches = await batch_messages(bh)
    assert len(batches) == 2 and len(top_level_posts(bh)) == 2
    listed = [invoice for batch_id in batches for invoice in await members(bh, batch_id)]
    assert sorted(listed) == sorted(f"in_b{n}" for n in range(count))
    for message in batches.values():
        assert f"Approve all {count // 2}" in {b["text"]["text"] for b in buttons(message).values()}


async def test_a_fan_out_interrupted_mid_way_resumes_without_sending_twice(
    bh: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await burst(bh, THRESHOLD + 7, groups=GROUPS[:1])
    [(batch_id, message)] = (await batch_messages(bh)).items()
    listed = await members(bh, batch_id)
    monkeypatch.setattr(batches_module, "DECISION_CHUNK", 3)
    real_approve = decisions_module.approve_draft
    calls = 0

    async def crash_on_the_fifth(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 5:  # mid-chunk, after one chunk was committed
            raise RuntimeError("worker died")
        return await real_approve(*args, **kwargs)

    monkeypatch.setattr(batches_module, "approve_draft", crash_on_the_fifth)

    await bh.click(BatchAction.APPROVE_ALL, FINANCE, message)
    await bh.worker.run_until_idle()

    # The interrupted chunk (one approval rolled back with it, then the crash) ran again.
    assert calls == len(listed) + 2
    expected = sorted(f"c{invoice.removeprefix('in_b')}@example.com" for invoice in listed)
    assert emails_to(bh) == expected
    async with bh.runtime.db.sessions() as session:
        outboxes = await session.scalar(select(func.count(OutboxEmail.id)))
    assert outboxes == len(listed)


def view_buttons(view: dict[str, Any], action_id: str) -> list[str]:
    """The values of every button `action_id` in a view, top to bottom."""
    return [
        element["value"]
        for block in view["blocks"]
        if block.get("type") == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
    ]


async def open_review(sh: SlackHarness, message: dict[str, Any]) -> dict[str, Any]:
    """Click Review one by one; the modal as the fake Slack stored it."""
    before = len(sh.slack.calls_to("views.open"))
    response = await sh.click(BatchAction.REVIEW, FINANCE, message)
    assert response.status_code == 200
    [opened] = sh.slack.calls_to("views.open")[before:]
    return dict(opened.response["view"])


async def click_in(sh: SlackHarness, view: dict[str, Any], action_id: str, value: str) -> None:
    response = await sh.post(view_block_action_body(action_id, value, FINANCE, view))
    assert response.status_code == 200


def latest_view(sh: SlackHarness, method: str) -> dict[str, Any]:
    return dict(sh.slack.calls_to(method)[-1].response["view"])


async def test_review_one_by_one_pages_through_the_drafts_and_approves_one(
    bh: SlackHarness,
) -> None:
    await burst(bh, THRESHOLD + 7, groups=GROUPS[:1])
    [(batch_id, message)] = (await batch_messages(bh)).items()
    listed = await members(bh, batch_id)
    posts_before = len(bh.slack.calls_to("chat.postMessage"))

    first = await open_review(bh, message)
    assert first["callback_id"] == "modal.batch_review"
    assert len(view_buttons(first, BatchAction.REVIEW_APPROVE)) == 5  # a page of five
    [next_page] = view_buttons(first, BatchAction.REVIEW_PAGE)
    await click_in(bh, first, BatchAction.REVIEW_PAGE, next_page)
    second = latest_view(bh, "views.update")
    assert second["id"] == first["id"]
    approvals = view_buttons(second, BatchAction.REVIEW_APPROVE)
    assert len(approvals) == 2 and listed[5] in json.dumps(second["blocks"])

    await click_in(bh, second, BatchAction.REVIEW_APPROVE, approvals[0])
    await bh.worker.run_until_idle()

    one = f"c{listed[5].removeprefix('in_b')}@example.com"
    assert emails_to(bh) == [one]
    shown = latest_view(bh, "views.update")
    assert len(view_buttons(shown, BatchAction.REVIEW_APPROVE)) == 1  # that draft is decided
    current = (await batch_messages(bh))[batch_id]
    assert "Approve all 6" in {b["text"]["text"] for b in buttons(current).values()}
    assert "1 sent" in message_text(current)
    # No channel message per draft: the review happened in the modal and the batch message.
    assert len(bh.slack.calls_to("chat.postMessage")) == posts_before

    await bh.click(BatchAction.APPROVE_ALL, FINANCE, current)
    await bh.worker.run_until_idle()
    assert emails_to(bh) == sorted(f"c{i.removeprefix('in_b')}@example.com" for i in listed)


async def test_review_edit_and_reject_push_the_cards_own_forms(bh: SlackHarness) -> None:
    await burst(bh, THRESHOLD + 2, groups=GROUPS[:1])
    [message] = (await batch_messages(bh)).values()
    view = await open_review(bh, message)
    first, second = view_buttons(view, BatchAction.REVIEW_EDIT)

    await click_in(bh, view, BatchAction.REVIEW_EDIT, first)
    pushed = latest_view(bh, "views.push")
    assert pushed["callback_id"] == "modal.edit_draft"
    await bh.submit(
        "modal.edit_draft",
        pushed["private_metadata"],
        {
            EditDraftField.SUBJECT.block_id: {EditDraftField.SUBJECT.action_id: "Your payment"},
            EditDraftField.BODY.block_id: {
                EditDraftField.BODY.action_id: "We could not take your payment. Please pay here."
            },
        },
        FINANCE,
    )
    await click_in(bh, view, BatchAction.REVIEW_REJECT, second)
    assert latest_view(bh, "views.push")["callback_id"] == "modal.reject_draft"
    await bh.worker.run_until_idle()

    async with bh.runtime.db.sessions() as session:
        bodies = set(await session.scalars(select(Draft.body)))
    assert "We could not take your payment. Please pay here." in bodies
    current = (await batch_messages(bh))[next(iter(await batch_messages(bh)))]
    await bh.click(BatchAction.APPROVE_ALL, FINANCE, current)
    await bh.worker.run_until_idle()
    assert "edited after it was listed" in message_text(
        (await batch_messages(bh))[next(iter(await batch_messages(bh)))]
    )


async def test_a_review_button_naming_a_draft_outside_the_batch_is_refused(
    bh: SlackHarness,
) -> None:
    await burst(bh, THRESHOLD + 2, groups=GROUPS[:1])
    [message] = (await batch_messages(bh)).values()
    view = await open_review(bh, message)
    async with bh.runtime.db.sessions() as session:
        card = await session.scalar(
            select(SlackMessage).where(SlackMessage.card_kind == "approval")
        )
    assert card is not None and card.ts
    outside = button_value(bh.slack.message(card.channel, card.ts), ApprovalAction.APPROVE)

    await click_in(bh, view, BatchAction.REVIEW_APPROVE, outside)
    await bh.worker.run_until_idle()

    assert list_outbox(bh.outbox) == []
    assert "not one of this batch" in bh.slack.ephemerals[-1]["text"]


async def test_app_home_review_queue_lists_drafts_and_batches_oldest_first(
    bh: SlackHarness,
) -> None:
    await burst(bh, THRESHOLD + 3, groups=GROUPS[:1])
    [batch_id] = await batch_messages(bh)
    listed = await members(bh, batch_id)

    home = json.dumps(await bh.open_home(FINANCE))

    assert f"Waiting for approval ({THRESHOLD + 1})" in home  # ten drafts and one batch
    assert "Batch of 3 drafts" in home and f"<#{APPROVALS}>" in home
    for invoice in listed:  # listed in the batch, not one by one
        assert f"Customer {invoice.removeprefix('in_b')} " not in home
    assert home.index("Customer 0 ") < home.index("Customer 9 ") < home.index("Batch of 3")

    message = (await batch_messages(bh))[batch_id]
    await bh.click(BatchAction.APPROVE_ALL, FINANCE, message)
    await bh.worker.run_until_idle()
    assert "Batch of" not in json.dumps(await bh.open_home(FINANCE))


async def test_a_decided_batch_keeps_review_one_by_one_for_the_drafts_it_skipped(
    bh: SlackHarness,
) -> None:
    await burst(bh, THRESHOLD + 3, groups=GROUPS[:1])
    [(batch_id, message)] = (await batch_messages(bh)).items()
    paused = (await members(bh, batch_id))[0]
    await bh.command(f"pause cus_b{paused.removeprefix('in_b')} for 7d", FINANCE)
    await bh.worker.run_until_idle()

    await bh.click(BatchAction.APPROVE_ALL, FINANCE, message)
    await bh.worker.run_until_idle()

    decided = (await batch_messages(bh))[batch_id]
    assert set(buttons(decided)) == {BatchAction.REVIEW}  # for the paused one, later
    view = await open_review(bh, decided)
    assert len(view_buttons(view, BatchAction.REVIEW_APPROVE)) == 1
    assert "dunning paused" in json.dumps(view["blocks"])
    name = f"Customer {paused.removeprefix('in_b')} ("
    assert name in json.dumps(await bh.open_home(FINANCE))  # and it waits in the review queue


async def test_two_approvers_pressing_approve_all_at_once_send_one_set(bh: SlackHarness) -> None:
    await burst(bh, THRESHOLD + 5, groups=GROUPS[:1])
    [(batch_id, message)] = (await batch_messages(bh)).items()
    listed = await members(bh, batch_id)

    first, second = await asyncio.gather(
        bh.click(BatchAction.APPROVE_ALL, FINANCE, message),
        bh.click(BatchAction.APPROVE_ALL, FINANCE_2, message),
    )
    await bh.worker.run_until_idle()

    assert first.status_code == second.status_code == 200
    assert emails_to(bh) == sorted(f"c{i.removeprefix('in_b')}@example.com" for i in listed)
    [refusal] = bh.slack.ephemerals
    assert "already approved this batch" in refusal["text"]


async def test_an_invoice_paid_before_its_email_left_is_counted_as_paid_before_sending(
    bh: SlackHarness,
) -> None:
    await burst(bh, THRESHOLD + 4, groups=GROUPS[:1])
    [(batch_id, message)] = (await batch_messages(bh)).items()
    paid, *rest = await members(bh, batch_id)

    await bh.click(BatchAction.APPROVE_ALL, FINANCE, message)
    invoice = bh.stripe.update_invoice(paid)  # paid in Stripe; the webhook has not arrived
    bh.stripe.update_invoice(
        paid, status="paid", amount_remaining=0, amount_paid=invoice["amount_due"]
    )
    await bh.worker.run_until_idle()

    assert emails_to(bh) == sorted(f"c{i.removeprefix('in_b')}@example.com" for i in rest)
    text = message_text((await batch_messages(bh))[batch_id])
    assert f"{len(rest)} sent, 1 paid before sending" in text


async def test_batch_message_updates_take_turns_in_the_channels_pace(bh: SlackHarness) -> None:
    await burst(bh, THRESHOLD + 2, groups=GROUPS[:1])
    [batch_id] = await batch_messages(bh)
    assert bh.runtime.slack is not None
    notifier = bh.runtime.slack.notifier
    turns: list[tuple[str, str | None]] = []

    class RecordingPacer(ChannelPacer):
        async def wait_turn(self, channel: str, *, key: str | None = None) -> None:
            turns.append((channel, key))

    notifier.pacer = RecordingPacer(0.0)
    updates = len(bh.slack.calls_to("chat.update"))

    await notifier.sync_batch(batch_id=batch_id)

    assert turns == [(f"update:{APPROVALS}", f"review_batch_update:{batch_id}")]
    assert len(bh.slack.calls_to("chat.update")) == updates + 1
