"""Cards say what happened at a glance: a header per state in words and a clear symbol, the
first line saying who; edited drafts name the editor; the VIP card says URGENT once and links
to Stripe only when billing is Stripe; modal labels and errors read as people write."""

from __future__ import annotations

import json

import pytest

from bot.slack.blocks.approval import approval_card
from bot.slack.blocks.kit import Block
from bot.slack.blocks.modals import done_modal, regenerate_modal
from bot.slack.blocks.vip import vip_task_card
from bot.slack.blocks.wording import counted
from bot.slack.ids import DoneTaskField, RegenerateDraftField
from bot.slack.listeners import shorten
from bot.slack.views import ApprovalStatus, VipTaskStatus
from tests.slack.conftest import NOW, make_approval, make_vip_task


def header_of(blocks: list[Block]) -> str:
    assert blocks[0]["type"] == "header", "a card opens with its state"
    text: str = blocks[0]["text"]["text"]
    return text


def first_line(blocks: list[Block]) -> str:
    text: str = blocks[1]["text"]["text"]
    return text


@pytest.mark.parametrize(
    ("status", "paid", "header", "line"),
    [
        (ApprovalStatus.PENDING, False, "Approval needed", "Payment failed for"),
        (ApprovalStatus.APPROVED, False, "Approved — sending", "approved by <@U123>"),
        (ApprovalStatus.SENT, False, "Sent, awaiting payment", "Email sent"),
        (ApprovalStatus.SENT, True, "Paid — $49.00 recovered", "invoice paid since"),
        (ApprovalStatus.CANCELLED_PAID, True, "Paid — $49.00 recovered", "nothing to send"),
        (ApprovalStatus.REJECTED, False, "Rejected", "rejected by <@U123>"),
        (ApprovalStatus.FAILED, False, "Sending failed", "press Retry"),
        (ApprovalStatus.UNKNOWN, False, "Delivery unknown", "Mark as sent"),
        (ApprovalStatus.SUPERSEDED, False, "Replaced by a newer draft", "Superseded"),
        (ApprovalStatus.CANCELLED_VOIDED, False, "voided", "voided"),
    ],
)
def test_approval_header_and_first_line_follow_the_state(
    status: ApprovalStatus, paid: bool, header: str, line: str
) -> None:
    view = make_approval(
        status=status, decided_by="U123", decided_at=NOW, sent_at=NOW, invoice_paid=paid
    )
    text, blocks = approval_card(view)
    assert header in header_of(blocks)
    assert header_of(blocks).startswith(":")  # one symbol, then words
    assert line in first_line(blocks)
    assert "moneybag" not in json.dumps(blocks) + text  # shown as an odd "¤" in the sandbox


def test_headers_of_pending_and_rejected_cards_differ() -> None:
    pending = header_of(approval_card(make_approval()).blocks)
    rejected = header_of(approval_card(make_approval(status=ApprovalStatus.REJECTED)).blocks)
    assert pending != rejected


def test_notification_text_leads_with_the_state() -> None:
    view = make_approval(status=ApprovalStatus.SENT, decided_by="U123", invoice_paid=True)
    assert approval_card(view).text.startswith("Paid — $49.00 recovered.")


def test_an_edited_draft_names_its_editor() -> None:
    blocks = approval_card(make_approval(source="template", edited_by="U555")).blocks
    notes = json.dumps([b for b in blocks if b["type"] == "context"])
    assert "Edited by <@U555>" in notes and "Template draft" not in notes
    unedited = json.dumps(approval_card(make_approval(source="template")).blocks)
    assert "Template draft" in unedited and "Edited by" not in unedited


def test_open_vip_card_says_urgent_once() -> None:
    text, blocks = vip_task_card(make_vip_task())
    assert json.dumps(blocks).count("URGENT") == 1
    assert "URGENT" in header_of(blocks)
    assert "Big Corp" in first_line(blocks)


@pytest.mark.parametrize(
    ("status", "paid", "header"),
    [
        (VipTaskStatus.CLAIMED, False, "claimed"),
        (VipTaskStatus.DONE, False, "done"),
        (VipTaskStatus.DONE, True, "Paid — $12,000.00 recovered"),
        (VipTaskStatus.RESOLVED_PAID, True, "Paid — $12,000.00 recovered"),
        (VipTaskStatus.RESOLVED_VOIDED, False, "voided"),
    ],
)
def test_vip_header_follows_the_state(status: VipTaskStatus, paid: bool, header: str) -> None:
    text, blocks = vip_task_card(make_vip_task(status=status, owner_id="U777", invoice_paid=paid))
    assert header in header_of(blocks)
    assert "URGENT" not in json.dumps(blocks) + text
    assert "moneybag" not in json.dumps(blocks)


def test_sandbox_vip_card_does_not_link_to_the_stripe_dashboard() -> None:
    _, blocks = vip_task_card(make_vip_task(stripe_dashboard=False))
    everything = json.dumps(blocks)
    assert "dashboard.stripe.com" not in everything
    assert "not in Stripe (demo billing)" in everything
    _, live = vip_task_card(make_vip_task())
    assert "https://dashboard.stripe.com/customers/cus_Big1" in json.dumps(live)


def label_of(modal: dict[str, object], block_id: str) -> str:
    blocks = modal["blocks"]
    assert isinstance(blocks, list)
    block = next(b for b in blocks if b.get("block_id") == block_id)
    label: str = block["label"]["text"]
    return label


def test_optional_inputs_do_not_say_optional_themselves() -> None:
    """Slack (and the sandbox) add "(optional)" to optional inputs: the label must not."""
    regenerate = regenerate_modal(make_approval())
    assert label_of(regenerate, RegenerateDraftField.INSTRUCTION.block_id) == "Instruction"
    assert label_of(done_modal(make_vip_task()), DoneTaskField.NOTE.block_id) == "Note"


def test_regenerate_modal_says_the_template_cannot_follow_instructions() -> None:
    modal = regenerate_modal(make_approval(), follows_instructions=False)
    assert "cannot follow instructions" in json.dumps(modal)
    assert "cannot follow" not in json.dumps(regenerate_modal(make_approval()))


def test_form_errors_are_cut_between_words() -> None:
    message = "The draft asks for a card number or a password, which a real company never does " * 3
    shown = shorten(message)
    assert len(shown) <= 150 and shown.endswith("…")
    kept = shown.removesuffix("…")
    assert message.startswith(kept) and message[len(kept)] == " "
    assert shorten("short enough") == "short enough"


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "no open cases"), (1, "one open case"), (3, "three open cases"), (42, "42 open cases")],
)
def test_counts_are_written_in_words(count: int, expected: str) -> None:
    assert counted(count, "open case") == expected
