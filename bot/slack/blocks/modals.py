"""The modals opened from cards: Edit, Regenerate, Reject (approval) and Done (VIP task)."""

from __future__ import annotations

from typing import Any

from bot.slack.blocks.approval import draft_ref
from bot.slack.blocks.kit import NOTE_MAX, SUBJECT_MAX, Block, context, modal, text_input
from bot.slack.blocks.vip import task_ref
from bot.slack.blocks.wording import customer_label, invoice_label
from bot.slack.ids import (
    DoneTaskField,
    EditDraftField,
    ModalCallback,
    RegenerateDraftField,
    RejectDraftField,
)
from bot.slack.metadata import MessageRef, ModalMetadata
from bot.slack.views import ApprovalCardView, VipTaskCardView

REGENERATE_INSTRUCTION_MAX = 500
REJECT_REASON_MAX = 500
TEMPLATE_HINT = (
    "The template drafter writes the same words again and cannot follow instructions; "
    "use Edit to change the text."
)


def _about(view: ApprovalCardView | VipTaskCardView) -> Block:
    invoice = invoice_label(view.invoice_id, view.invoice_number)
    return context(f"{invoice} · {customer_label(view.customer_name, view.customer_email)}")


def edit_modal(view: ApprovalCardView, *, origin: MessageRef | None = None) -> dict[str, Any]:
    """Modal to edit the draft's subject and body, prefilled with the current text."""
    blocks = [
        _about(view),
        text_input(EditDraftField.SUBJECT, "Subject", initial=view.subject, max_length=SUBJECT_MAX),
        text_input(
            EditDraftField.BODY,
            "Body",
            initial=view.body,
            multiline=True,
            hint="At most three sentences. Greeting, amount, pay link and signature are added.",
        ),
    ]
    meta = ModalMetadata(card=draft_ref(view), message=origin)
    return modal(ModalCallback.EDIT_DRAFT, "Edit draft", "Save draft", blocks, meta)


def regenerate_modal(
    view: ApprovalCardView,
    *,
    origin: MessageRef | None = None,
    follows_instructions: bool = True,
) -> dict[str, Any]:
    """Modal to ask for a new draft, with an optional instruction for the writer (the label
    says nothing of "optional": Slack adds that to optional inputs itself)."""
    blocks = [
        _about(view),
        text_input(
            RegenerateDraftField.INSTRUCTION,
            "Instruction",
            multiline=True,
            optional=True,
            max_length=REGENERATE_INSTRUCTION_MAX,
            placeholder="e.g. warmer tone, mention that the card expired",
            hint=None if follows_instructions else TEMPLATE_HINT,
        ),
    ]
    meta = ModalMetadata(card=draft_ref(view), message=origin)
    return modal(ModalCallback.REGENERATE_DRAFT, "Regenerate draft", "Regenerate", blocks, meta)


def reject_modal(view: ApprovalCardView, *, origin: MessageRef | None = None) -> dict[str, Any]:
    """Modal asking why the draft is rejected (nothing is sent)."""
    blocks = [
        _about(view),
        text_input(
            RejectDraftField.REASON,
            "Reason",
            multiline=True,
            max_length=REJECT_REASON_MAX,
            placeholder="e.g. customer already contacted by phone",
        ),
    ]
    meta = ModalMetadata(card=draft_ref(view), message=origin)
    return modal(ModalCallback.REJECT_DRAFT, "Reject draft", "Reject", blocks, meta)


def done_modal(view: VipTaskCardView, *, origin: MessageRef | None = None) -> dict[str, Any]:
    """Modal to close a VIP task, with an optional note of what was agreed."""
    blocks = [
        _about(view),
        text_input(
            DoneTaskField.NOTE,
            "Note",
            multiline=True,
            optional=True,
            max_length=NOTE_MAX,
            placeholder="e.g. called the customer, new card on file by Friday",
        ),
    ]
    meta = ModalMetadata(card=task_ref(view), message=origin)
    return modal(ModalCallback.DONE_TASK, "Mark task done", "Done", blocks, meta)
