from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.slack.blocks.approval import approval_card
from bot.slack.blocks.digest import digest_message
from bot.slack.blocks.escalation import escalation_message
from bot.slack.blocks.home import home_tab
from bot.slack.blocks.kit import Message
from bot.slack.blocks.modals import done_modal, edit_modal, regenerate_modal, reject_modal
from bot.slack.blocks.vip import vip_reminder_message, vip_task_card
from bot.slack.ids import (
    ApprovalAction,
    DoneTaskField,
    EditDraftField,
    ModalCallback,
    RegenerateDraftField,
    RejectDraftField,
    VipAction,
)
from bot.slack.metadata import CardKind, CardRef, MessageRef, ModalMetadata
from bot.slack.views import (
    ApprovalStatus,
    DigestItem,
    DigestView,
    HomeCaseRow,
    HomeView,
    PausedCustomerRow,
    VipTaskStatus,
)
from tests.slack.conftest import HOSTILE_NAME, NOW, make_approval, make_vip_task

Block = dict[str, Any]


def buttons(blocks: list[Block]) -> list[Block]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def labels(blocks: list[Block]) -> list[str]:
    return [b["text"]["text"] for b in buttons(blocks)]


def all_text(message: Message) -> str:
    """Fallback text plus every string in the blocks."""
    return message.text + "\n" + json.dumps(message.blocks, ensure_ascii=False)


def walk_texts(node: Any) -> list[dict[str, Any]]:
    """Every text object (`{"type": "mrkdwn"|"plain_text", "text": ...}`) in a structure."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") in {"mrkdwn", "plain_text"} and isinstance(node.get("text"), str):
            found.append(node)
        for value in node.values():
            found += walk_texts(value)
    elif isinstance(node, list):
        for value in node:
            found += walk_texts(value)
    return found


def assert_within_slack_limits(blocks: list[Block], *, max_blocks: int = 50) -> None:
    assert len(blocks) <= max_blocks
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
            assert len(block.get("fields", [])) <= 10
            for f in block.get("fields", []):
                assert len(f["text"]) <= 2000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
        for button in block.get("elements", []) if block["type"] == "actions" else []:
            assert len(button["text"]["text"]) <= 75
            assert len(button["value"]) <= 2000


# --- approval card -----------------------------------------------------------------------


def test_pending_card_has_the_four_buttons_and_names_invoice_and_customer() -> None:
    text, blocks = approval_card(make_approval())
    assert labels(blocks) == ["Approve", "Edit", "Regenerate", "Reject"]
    assert "in_1Abc" in text and "INV-0042" in text
    assert "ana@example.com" in text and "Ana Pereira" in text
    assert "$49.00" in text
    assert_within_slack_limits(blocks)


def test_approve_is_primary_with_a_confirm_dialog_and_reject_is_danger() -> None:
    _, blocks = approval_card(make_approval())
    by_label = {b["text"]["text"]: b for b in buttons(blocks)}
    approve, reject = by_label["Approve"], by_label["Reject"]
    assert approve["style"] == "primary"
    assert approve["action_id"] == ApprovalAction.APPROVE
    confirm = approve["confirm"]
    assert {"title", "text", "confirm", "deny"} <= confirm.keys()
    assert all(confirm[k]["type"] == "plain_text" for k in ("title", "text", "confirm", "deny"))
    assert "INV-0042" in confirm["text"]["text"]
    assert reject["style"] == "danger"
    assert "confirm" not in by_label["Edit"]


def test_buttons_carry_the_card_ref_for_compare_and_set() -> None:
    _, blocks = approval_card(make_approval(draft_id=11, version=3))
    expected = CardRef(kind=CardKind.DRAFT, id=11, version=3)
    for button in buttons(blocks):
        assert CardRef.parse(button["value"]) == expected
    assert {b["action_id"] for b in buttons(blocks)} == {
        ApprovalAction.APPROVE,
        ApprovalAction.EDIT,
        ApprovalAction.REGENERATE,
        ApprovalAction.REJECT,
    }


DECIDED = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (ApprovalStatus.APPROVED, "approved by <@U123> at"),
        (ApprovalStatus.SENDING, "approved by <@U123> at"),
        (ApprovalStatus.SENT, "Email sent"),
        (ApprovalStatus.REJECTED, "rejected by <@U123>: tone is too pushy"),
        (ApprovalStatus.WAITING, "waiting: dunning is paused"),
        (ApprovalStatus.CANCELLED_PAID, "Invoice paid — nothing to send"),
        (ApprovalStatus.CANCELLED_VOIDED, "voided"),
        (ApprovalStatus.CANCELLED_UNCOLLECTIBLE, "uncollectible"),
        (ApprovalStatus.SUPERSEDED, "Superseded"),
        (ApprovalStatus.REGENERATING, "Regenerating"),
    ],
)
def test_after_a_decision_no_buttons_and_the_text_says_what_happened(
    status: ApprovalStatus, expected: str
) -> None:
    view = make_approval(
        status=status,
        decided_by="U123",
        decided_at=DECIDED,
        sent_at=DECIDED,
        reject_reason="tone is too pushy",
        send_error="550 mailbox unavailable",
    )
    text, blocks = approval_card(view)
    assert buttons(blocks) == []
    assert expected in text
    assert expected in json.dumps(blocks, ensure_ascii=False)
    assert "in_1Abc" in text and "ana@example.com" in text


def test_failed_send_offers_only_retry_unless_the_invoice_was_paid() -> None:
    failed = make_approval(
        status=ApprovalStatus.FAILED, decided_by="U123", send_error="550 mailbox unavailable"
    )
    text, blocks = approval_card(failed)
    assert [b["action_id"] for b in buttons(blocks)] == [ApprovalAction.RETRY_SEND]
    assert "550 mailbox unavailable" in text and "Retry" in text
    paid = make_approval(
        status=ApprovalStatus.FAILED,
        decided_by="U123",
        send_error="550 mailbox unavailable",
        invoice_paid=True,
    )
    assert buttons(approval_card(paid).blocks) == []


def test_sent_card_says_sent_and_by_whom() -> None:
    text, _ = approval_card(
        make_approval(status=ApprovalStatus.SENT, decided_by="U123", decided_at=DECIDED)
    )
    assert "sent" in text and "<@U123>" in text


def test_paid_card_says_paid() -> None:
    text, blocks = approval_card(make_approval(status=ApprovalStatus.CANCELLED_PAID))
    assert "paid" in text
    assert "Approve" not in labels(blocks)


def test_decision_time_uses_slack_date_markup_in_blocks_and_utc_in_text() -> None:
    text, blocks = approval_card(
        make_approval(status=ApprovalStatus.APPROVED, decided_by="U123", decided_at=DECIDED)
    )
    assert "2026-03-01 12:30 UTC" in text
    assert "<!date^" in json.dumps(blocks)


def test_unknown_delivery_offers_retry_and_mark_as_sent() -> None:
    view = make_approval(
        status=ApprovalStatus.UNKNOWN, decided_by="U123", send_error="connection reset"
    )
    text, blocks = approval_card(view)
    assert labels(blocks) == ["Retry", "Mark as sent"]
    by_label = {b["text"]["text"]: b for b in buttons(blocks)}
    assert by_label["Retry"]["action_id"] == ApprovalAction.RETRY_SEND
    assert "confirm" in by_label["Retry"]
    assert by_label["Mark as sent"]["action_id"] == ApprovalAction.MARK_SENT
    assert "connection reset" in text


def test_hostile_customer_name_is_escaped_everywhere() -> None:
    view = make_approval(
        customer_name=HOSTILE_NAME,
        customer_email="<!here>@x.example",
        subject="<!channel> pay now",
        body="*Dear* <@U999>,\n> pay <https://evil.example|here>",
        reject_reason="<!channel>",
        status=ApprovalStatus.PENDING,
    )
    for message in (
        approval_card(view),
        approval_card(replace(view, status=ApprovalStatus.REJECTED)),
    ):
        everything = all_text(message)
        for injected in ("<!channel>", "<!here>", "<@U999>", "<https://evil", "*boss*", "@here"):
            assert injected not in everything
        assert "&lt;!channel&gt;" in message.text


def test_customer_text_is_never_in_plain_text_objects_unescaped() -> None:
    """Confirm dialogs and headers are plain_text: they must not carry customer text."""
    message = approval_card(make_approval(customer_name=HOSTILE_NAME))
    for obj in walk_texts(message.blocks):
        if obj["type"] == "plain_text":
            assert "<" not in obj["text"]


def test_long_body_is_shortened_within_limits() -> None:
    body = ("A very long sentence with <tags> & ampersands. " * 200).strip()
    lines = "\n".join(["line"] * 2000)
    for text in (body, lines):
        message = approval_card(make_approval(body=text, subject="S" * 1000))
        assert_within_slack_limits(message.blocks)
        assert "Edit shows the full draft" in json.dumps(message.blocks)
        assert len(message.text) <= 3000


def test_missing_optional_fields_still_render() -> None:
    view = make_approval(
        invoice_number=None,
        customer_name=None,
        customer_email=None,
        decline_reason=None,
        ltv_text=None,
        segment_reasons=(),
        provider=None,
        model=None,
        source="template",
        body="",
    )
    text, blocks = approval_card(view)
    assert "in_1Abc" in text
    assert "unknown customer" in text
    assert_within_slack_limits(blocks)


def test_guardrail_notes_and_source_are_shown() -> None:
    view = make_approval(guardrail_notes=["Removed a link"], fallback_reason="LLM timed out")
    everything = all_text(approval_card(view))
    assert "Removed a link" in everything
    assert "openai gpt-4o-mini" in everything
    assert "LLM timed out" in everything


# --- VIP card ----------------------------------------------------------------------------


def test_open_vip_task_is_urgent_with_claim() -> None:
    text, blocks = vip_task_card(make_vip_task())
    assert "URGENT: VIP customer" in text and "payment failed" in text
    assert "Big Corp" in text and "in_9Xyz" in text
    assert labels(blocks) == ["Claim"]
    assert buttons(blocks)[0]["action_id"] == VipAction.CLAIM
    ref = CardRef.parse(buttons(blocks)[0]["value"])
    assert ref == CardRef(kind=CardKind.VIP_TASK, id=5, version=1)
    assert "https://dashboard.stripe.com/customers/cus_Big1" in json.dumps(blocks)
    assert_within_slack_limits(blocks)


def test_claimed_vip_task_shows_owner_with_release_and_done() -> None:
    view = make_vip_task(status=VipTaskStatus.CLAIMED, owner_id="U777", claimed_at=NOW)
    text, blocks = vip_task_card(view)
    assert labels(blocks) == ["Release", "Done"]
    assert [b["action_id"] for b in buttons(blocks)] == [VipAction.RELEASE, VipAction.DONE]
    assert "<@U777>" in text
    assert "claimed by <@U777>" in json.dumps(blocks)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (VipTaskStatus.DONE, "done by <@U777>"),
        (VipTaskStatus.RESOLVED_PAID, "resolved — invoice paid"),
        (VipTaskStatus.RESOLVED_VOIDED, "invoice voided"),
        (VipTaskStatus.RESOLVED_UNCOLLECTIBLE, "uncollectible"),
    ],
)
def test_finished_vip_task_has_no_buttons(status: VipTaskStatus, expected: str) -> None:
    view = make_vip_task(status=status, owner_id="U777", note="<!channel> called them")
    text, blocks = vip_task_card(view)
    assert buttons(blocks) == []
    assert expected.lower() in text.lower()
    assert "<!channel>" not in all_text(Message(text, blocks))


def test_test_mode_dashboard_link() -> None:
    assert make_vip_task(livemode=False).dashboard_url == (
        "https://dashboard.stripe.com/test/customers/cus_Big1"
    )


def test_vip_card_escapes_hostile_customer() -> None:
    message = vip_task_card(make_vip_task(customer_name=HOSTILE_NAME))
    for injected in ("<!channel>", "<@U999>", "*boss*", "@here"):
        assert injected not in all_text(message)


# --- modals ------------------------------------------------------------------------------


def input_block(view: dict[str, Any], block_id: str) -> Block:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


ORIGIN = MessageRef(channel="C0APPROVE", ts="1700000001.000001")


def test_edit_modal_is_prefilled_and_carries_metadata() -> None:
    view = make_approval(subject="Sub <b>", body="Body & more\nline 2")
    modal = edit_modal(view, origin=ORIGIN)
    assert modal["type"] == "modal"
    assert modal["callback_id"] == ModalCallback.EDIT_DRAFT
    assert len(modal["title"]["text"]) <= 24
    subject = input_block(modal, EditDraftField.SUBJECT.block_id)
    body = input_block(modal, EditDraftField.BODY.block_id)
    # Inputs show plain text: the draft is prefilled exactly, not escaped.
    assert subject["element"]["initial_value"] == "Sub <b>"
    assert subject["element"]["action_id"] == EditDraftField.SUBJECT.action_id
    assert body["element"]["initial_value"] == "Body & more\nline 2"
    assert body["element"]["multiline"] is True
    meta = ModalMetadata.parse(modal["private_metadata"])
    assert meta.card == CardRef(kind=CardKind.DRAFT, id=11, version=3)
    assert meta.message == ORIGIN


def test_regenerate_modal_instruction_is_optional() -> None:
    modal = regenerate_modal(make_approval())
    assert modal["callback_id"] == ModalCallback.REGENERATE_DRAFT
    block = input_block(modal, RegenerateDraftField.INSTRUCTION.block_id)
    assert block["optional"] is True
    assert ModalMetadata.parse(modal["private_metadata"]).message is None


def test_reject_modal_asks_for_a_reason() -> None:
    modal = reject_modal(make_approval(), origin=ORIGIN)
    assert modal["callback_id"] == ModalCallback.REJECT_DRAFT
    block = input_block(modal, RejectDraftField.REASON.block_id)
    assert block["optional"] is False
    assert block["element"]["action_id"] == RejectDraftField.REASON.action_id


def test_done_modal_for_a_vip_task() -> None:
    modal = done_modal(make_vip_task(), origin=ORIGIN)
    assert modal["callback_id"] == ModalCallback.DONE_TASK
    assert input_block(modal, DoneTaskField.NOTE.block_id)["optional"] is True
    meta = ModalMetadata.parse(modal["private_metadata"])
    assert meta.card == CardRef(kind=CardKind.VIP_TASK, id=5, version=1)


def test_modals_escape_customer_text_in_their_context_line() -> None:
    modal = edit_modal(make_approval(customer_name=HOSTILE_NAME))
    context = json.dumps(modal["blocks"][0])
    assert "<!channel>" not in context
    assert "&lt;!channel&gt;" in context


def test_huge_draft_fits_the_input_limit() -> None:
    modal = edit_modal(make_approval(body="x" * 10_000))
    element = input_block(modal, EditDraftField.BODY.block_id)["element"]
    assert len(element["initial_value"]) <= element["max_length"] <= 3000


# --- other messages ------------------------------------------------------------------------


def test_digest_summarises_a_burst() -> None:
    items = [
        DigestItem(
            invoice_id=f"in_{i}",
            customer_name=f"Customer {i}",
            amount_text="$10.00",
            vip=i == 0,
        )
        for i in range(20)
    ]
    text, blocks = digest_message(DigestView(items=items, total_texts=["$200.00"]))
    assert text.startswith("20 payments failed in the last minute; cards in the thread")
    assert "in_0" in text and "Customer 0" in text
    assert "…and 5 more" in json.dumps(blocks, ensure_ascii=False)
    assert_within_slack_limits(blocks)


def test_digest_singular() -> None:
    text, _ = digest_message(DigestView(items=[DigestItem(invoice_id="in_1", amount_text="$1")]))
    assert text.startswith("1 payment failed in the last minute")


def test_escalation_names_the_case_and_mentions_people() -> None:
    text, blocks = escalation_message(
        make_approval(customer_name=HOSTILE_NAME),
        reason="waiting for approval for 24 hours",
        mention_ids=["U1A", "U2B"],
        permalink="https://example.slack.com/archives/C1/p1700000001000001",
    )
    assert "in_1Abc" in text and "&lt;!channel&gt;" in text
    assert "<@U1A> <@U2B>" in text
    assert "<!channel>" not in all_text(Message(text, blocks))


def test_vip_reminder_mentions_account_managers_while_unclaimed() -> None:
    text, _ = vip_reminder_message(make_vip_task(), ["U1A", "U2B"])
    assert "<@U1A>" in text and "<@U2B>" in text
    assert "Big Corp" in text and "in_9Xyz" in text


def test_vip_reminder_goes_to_the_owner_once_claimed() -> None:
    task = make_vip_task(status=VipTaskStatus.CLAIMED, owner_id="U777")
    text, _ = vip_reminder_message(task, ["U1A"])
    assert "<@U777>" in text and "<@U1A>" not in text


def test_home_tab() -> None:
    rows = [
        HomeCaseRow(
            invoice_id=f"in_{i}",
            customer_name=HOSTILE_NAME,
            amount_text="$5.00",
            status_text="waiting for approval",
            permalink="https://example.slack.com/archives/C1/p1",
            opened_at=NOW,
        )
        for i in range(40)
    ]
    paused = [
        PausedCustomerRow(
            customer_id="cus_P1",
            customer_email="p@example.com",
            until=NOW,
            reason="vacation",
            paused_by="U123",
        ),
        PausedCustomerRow(customer_id="cus_P2"),
    ]
    home = home_tab(
        HomeView(
            user_id="U123",
            can_approve=True,
            pending_approvals=rows,
            open_vip_tasks=rows[:2],
            paused_customers=paused,
            recovered_text="$4,210.00 recovered in the last 30 days",
            updated_at=NOW,
        )
    )
    assert home["type"] == "home"
    assert_within_slack_limits(home["blocks"], max_blocks=100)
    dumped = json.dumps(home, ensure_ascii=False)
    assert "Waiting for approval (40)" in dumped
    assert "…and 20 more" in dumped
    assert "until resumed" in dumped
    assert "<!channel>" not in dumped


def test_empty_home_tab() -> None:
    home = home_tab(HomeView(user_id="U123"))
    assert "Nothing here." in json.dumps(home)


def test_done_vip_task_of_a_paid_invoice_says_paid() -> None:
    view = make_vip_task(
        status=VipTaskStatus.DONE, owner_id="U777", note="called them", invoice_paid=True
    )
    text, blocks = vip_task_card(view)
    assert "done by <@U777>" in text and "invoice paid" in text and buttons(blocks) == []
