"""The batch review message: a burst's drafts of one group, approved or rejected together.

Its summary section's block id is `batch_review` and its text begins "Batch review", so a
reader (or a benchmark watching the fake Slack) can tell it from a card.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.slack.blocks.kit import (
    SECTION_TEXT_MAX,
    Block,
    Message,
    actions,
    button,
    confirm_dialog,
    context,
    header,
    section,
)
from bot.slack.blocks.wording import (
    counted,
    customer_label,
    fallback,
    invoice_label,
    shown_draft,
    when,
    who,
)
from bot.slack.ids import BatchAction
from bot.slack.metadata import CardKind, CardRef
from bot.slack.mrkdwn import escape_inline, escape_truncated
from bot.slack.views import BatchLine, BatchLineState, BatchView
from recovery.money import format_amount
from storage.models import BatchStatus

BATCH_BLOCK_ID = "batch_review"
LIST_LINES_MAX = 60
"""Lines listed in the message itself; Review one by one pages through all of them."""
LIST_SECTIONS_MAX = 6

_STATE_WORDS = {
    BatchLineState.PENDING: "waiting for approval",
    BatchLineState.QUEUED: "queued",
    BatchLineState.WAITING: "waiting",
    BatchLineState.SENT: "sent",
    BatchLineState.PAID_BEFORE_SENDING: "paid before sending",
    BatchLineState.FAILED: "failed (see its card)",
    BatchLineState.REJECTED: "rejected",
    BatchLineState.SETTLED: "paid or settled",
    BatchLineState.SKIPPED: "skipped",
}
_PROGRESS_ORDER = (
    BatchLineState.SENT,
    BatchLineState.PAID_BEFORE_SENDING,
    BatchLineState.WAITING,
    BatchLineState.QUEUED,
    BatchLineState.FAILED,
    BatchLineState.REJECTED,
    BatchLineState.SETTLED,
    BatchLineState.SKIPPED,
    BatchLineState.PENDING,
)


def batch_ref(view: BatchView) -> CardRef:
    """The typed reference the message's buttons carry: the batch and the version it lists."""
    return CardRef(kind=CardKind.BATCH, id=view.batch_id, version=view.version)


def total_text(lines: Sequence[BatchLine], currency: str) -> str:
    """The sum of the lines' amounts, e.g. `$2,058.00`."""
    return format_amount(sum(line.amount for line in lines), currency)


def group_text(view: BatchView) -> str:
    """`card expired · standard customers · English · AI drafts · USD` (escaped)."""
    parts = [
        escape_inline(view.decline_text),
        f"{escape_inline(view.segment)} customers",
        escape_inline(view.language_text),
        "AI drafts" if view.source == "ai" else "template drafts",
        escape_inline(view.currency.upper()),
    ]
    return " · ".join(parts)


def progress_text(view: BatchView) -> str:
    """`412 sent, 38 paid before sending, 25 waiting` over every listed draft."""
    counts = {state: len(view.in_state(state)) for state in _PROGRESS_ORDER}
    parts = [f"{n:,} {_STATE_WORDS[state]}" for state, n in counts.items() if n]
    return ", ".join(parts) or "nothing listed"


def _line(line: BatchLine) -> str:
    text = (
        f"• {customer_label(line.customer_name, line.customer_email)} — "
        f"{invoice_label(line.invoice_id, line.invoice_number)} — "
        f"{escape_inline(line.amount_text)}"
    )
    if line.state is not BatchLineState.PENDING:
        text += f" — _{_STATE_WORDS[line.state]}_"
    if line.reason:
        text += f": {escape_truncated(line.reason, 200, inline=True)}"
    return text


def list_sections(
    lines: Sequence[BatchLine], *, max_lines: int = LIST_LINES_MAX, more_hint: str = ""
) -> list[Block]:
    """The lines as sections of at most Slack's 3,000 characters; the rest counted."""
    blocks: list[Block] = []
    chunk: list[str] = []
    size = 0
    shown = 0
    for line in lines[:max_lines]:
        text = _line(line)
        if chunk and size + len(text) + 1 > SECTION_TEXT_MAX:
            if len(blocks) + 1 >= LIST_SECTIONS_MAX:
                break
            blocks.append(section("\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(text)
        size += len(text) + 1
        shown += 1
    if chunk:
        blocks.append(section("\n".join(chunk)))
    hidden = len(lines) - shown
    if hidden > 0:
        blocks.append(context(f"…and {hidden:,} more{more_hint}"))
    return blocks


def _sample(line: BatchLine) -> Block:
    draft = shown_draft(subject=line.subject, body=line.body)
    who_for = customer_label(line.customer_name, line.customer_email)
    return section(
        f"*Sample draft* (for {who_for}):\n*Subject:* {draft.subject}\n{draft.body}",
        block_id="batch_sample",
    )


def _buttons(view: BatchView) -> Block | None:
    pending = view.pending
    ref = batch_ref(view).dump()
    review = button("Review one by one", BatchAction.REVIEW, ref)
    if view.status != BatchStatus.OPEN or not pending:
        # Decided (or nothing left for Approve all): the drafts it skipped that still wait
        # (edited, paused) are decided one by one.
        waiting = any(line.actionable for line in view.lines)
        return actions("batch_actions", review) if waiting else None
    total = total_text(pending, view.currency)
    count = len(pending)
    approve = button(
        f"Approve all {count:,}",
        BatchAction.APPROVE_ALL,
        ref,
        style="primary",
        confirm=confirm_dialog(
            f"Approve all {count:,}?",
            f"{counted(count, 'email')} totalling {total} go to the customers now, each only "
            "if its invoice is still unpaid. Drafts paid, edited or paused since are skipped.",
            f"Approve all {count:,}",
        ),
    )
    reject = button(
        "Reject all",
        BatchAction.REJECT_ALL,
        ref,
        style="danger",
        confirm=confirm_dialog(
            f"Reject all {count:,}?",
            f"No email is sent for these {count:,} drafts ({total}).",
            "Reject all",
        ),
    )
    return actions("batch_actions", approve, review, reject)


def _headline(view: BatchView) -> str:
    count = len(view.lines)
    total = total_text(view.lines, view.currency)
    if view.status == BatchStatus.APPROVED:
        return f":outbox_tray: Batch approved: {count:,} drafts · {total}"
    if view.status == BatchStatus.REJECTED:
        return f":no_entry: Batch rejected: {count:,} drafts · {total}"
    return f":package: Batch review: {count:,} drafts · {total}"


def _status_line(view: BatchView) -> str:
    if view.status == BatchStatus.OPEN:
        waiting = len(view.pending)
        return (
            f"*Batch review* — {counted(waiting, 'draft')} of a burst waiting for approval "
            f"({group_text(view)}). Approve them all, review them one by one, or reject them."
        )
    verb = "Approved" if view.status == BatchStatus.APPROVED else "Rejected"
    at = when(view.decided_at, for_blocks=True)
    return (
        f"*Batch review* — {verb} by {who(view.decided_by)}{at} ({group_text(view)}): "
        f"{progress_text(view)}."
    )


def batch_message(view: BatchView) -> Message:
    """The batch's message: count, total, one sample draft, the list, and the actions."""
    blocks: list[Block] = [
        header(_headline(view)),
        section(_status_line(view), block_id=BATCH_BLOCK_ID),
    ]
    sample = view.pending[0] if view.pending else (view.lines[0] if view.lines else None)
    if sample is not None and view.status == BatchStatus.OPEN:
        blocks.append(_sample(sample))
    if view.status == BatchStatus.OPEN and len(view.pending) != len(view.lines):
        blocks.append(context(f"So far: {progress_text(view)}"))
    hint = "; Review one by one pages through all of them" if view.status == "open" else ""
    blocks += list_sections(view.lines, more_hint=hint)
    buttons = _buttons(view)
    if buttons is not None:
        blocks.append(buttons)
    total = total_text(view.lines, view.currency)
    if view.status == BatchStatus.OPEN:
        text = (
            f"Batch review: {len(view.pending):,} drafts waiting for approval ({total}), "
            f"{view.decline_text}, {view.currency.upper()}"
        )
    else:
        text = f"Batch review ({view.status}): {progress_text(view)}"
    return Message(fallback(escape_inline(text)), blocks)
