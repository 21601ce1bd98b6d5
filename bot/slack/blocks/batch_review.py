"""The Review one by one modal of a batch: pages through its drafts, each with Approve / Edit /
Reject, without a channel message per draft."""

from __future__ import annotations

from typing import Any

from bot.slack.blocks.batch import batch_ref, group_text, progress_text
from bot.slack.blocks.kit import (
    MODAL_TITLE_MAX,
    VIEW_BLOCKS_MAX,
    Block,
    actions,
    button,
    confirm_dialog,
    context,
    divider,
    plain_text,
    section,
)
from bot.slack.blocks.wording import customer_label, invoice_label, shown_draft
from bot.slack.ids import BatchAction, ModalCallback
from bot.slack.metadata import CardKind, CardRef, MessageRef, ModalMetadata, ReviewPageRef
from bot.slack.mrkdwn import escape_inline, escape_truncated, truncate
from bot.slack.views import BatchLine, BatchLineState, BatchView

REVIEW_PAGE_SIZE = 5
REVIEW_BODY_MAX = 1500
_STATE_NOTES = {
    BatchLineState.QUEUED: "decided with the batch, its turn comes shortly",
    BatchLineState.WAITING: "approved — sending",
    BatchLineState.SENT: "sent",
    BatchLineState.PAID_BEFORE_SENDING: "invoice paid before sending",
    BatchLineState.FAILED: "sending failed — see its card in the batch's thread",
    BatchLineState.REJECTED: "rejected",
    BatchLineState.SETTLED: "invoice paid or settled",
    BatchLineState.SKIPPED: "skipped",
}


def page_count(view: BatchView) -> int:
    """How many pages the modal has (at least one)."""
    return max(1, -(-len(view.lines) // REVIEW_PAGE_SIZE))


def _draft_blocks(line: BatchLine) -> list[Block]:
    facts = (
        f"*{customer_label(line.customer_name, line.customer_email)}* — "
        f"{invoice_label(line.invoice_id, line.invoice_number)} — "
        f"{escape_inline(line.amount_text)}"
    )
    if line.state is not BatchLineState.PENDING and line.state in _STATE_NOTES:
        facts += f"\n_{_STATE_NOTES[line.state]}_"
        if line.reason:
            facts += f": {escape_truncated(line.reason, 200, inline=True)}"
    draft = shown_draft(subject=line.subject, body=line.body, body_max=REVIEW_BODY_MAX)
    blocks = [
        section(facts, block_id=f"review_draft_{line.draft_id}"),
        section(f"*Subject:* {draft.subject}\n{draft.body}"),
    ]
    if line.actionable:
        ref = CardRef(kind=CardKind.DRAFT, id=line.draft_id, version=line.draft_version).dump()
        amount = truncate(line.amount_text, 40)
        invoice = truncate(line.invoice_number or line.invoice_id, 60)
        blocks.append(
            actions(
                f"review_actions_{line.draft_id}",
                button(
                    "Approve",
                    BatchAction.REVIEW_APPROVE,
                    ref,
                    style="primary",
                    confirm=confirm_dialog(
                        "Send this email?",
                        f"The email about invoice {invoice} ({amount}) goes to the customer now.",
                        "Approve and send",
                    ),
                ),
                button("Edit", BatchAction.REVIEW_EDIT, ref),
                button("Reject", BatchAction.REVIEW_REJECT, ref, style="danger"),
            )
        )
    blocks.append(divider())
    return blocks


def _navigation(view: BatchView, page: int) -> Block | None:
    last = page_count(view) - 1
    buttons = []
    if page > 0:
        value = ReviewPageRef(batch=view.batch_id, page=page - 1).dump()
        buttons.append(button("◀ Previous", BatchAction.REVIEW_PAGE, value))
    if page < last:
        value = ReviewPageRef(batch=view.batch_id, page=page + 1).dump()
        buttons.append(button("Next ▶", BatchAction.REVIEW_PAGE, value))
    return actions("review_pages", *buttons) if buttons else None


def review_modal(view: BatchView, *, page: int, origin: MessageRef | None) -> dict[str, Any]:
    """One page of the batch's drafts; buttons act on one draft, Previous / Next page."""
    pages = page_count(view)
    page = min(max(page, 0), pages - 1)
    lines = view.lines[page * REVIEW_PAGE_SIZE : (page + 1) * REVIEW_PAGE_SIZE]
    blocks: list[Block] = [
        context(
            f"{group_text(view)} · drafts {page * REVIEW_PAGE_SIZE + 1}–"
            f"{page * REVIEW_PAGE_SIZE + len(lines)} of {len(view.lines)} · page {page + 1} "
            f"of {pages}",
            f"So far: {progress_text(view)}",
        )
    ]
    for line in lines:
        blocks += _draft_blocks(line)
    navigation = _navigation(view, page)
    if navigation is not None:
        blocks.append(navigation)
    meta = ModalMetadata(card=batch_ref(view), message=origin, page=page)
    return {
        "type": "modal",
        "callback_id": str(ModalCallback.BATCH_REVIEW),
        "title": plain_text(truncate("Review the batch", MODAL_TITLE_MAX)),
        "close": plain_text("Close"),
        "private_metadata": meta.dump(),
        "blocks": blocks[:VIEW_BLOCKS_MAX],
    }
