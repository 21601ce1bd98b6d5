"""Pure Block Kit builders: view dataclasses in, `(text, blocks)` or a modal/home view out.

Nothing here talks to Slack or the database. Every message's `text` is the notification
fallback and names the invoice and the customer. Customer-provided strings (names, emails,
draft text, notes, errors) pass through `escape_mrkdwn` and are cut to fit Slack's limits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from bot.slack.ids import (
    ApprovalAction,
    DoneTaskField,
    EditDraftField,
    ModalCallback,
    ModalField,
    RegenerateDraftField,
    RejectDraftField,
    VipAction,
)
from bot.slack.metadata import CardKind, CardRef, MessageRef, ModalMetadata
from bot.slack.mrkdwn import (
    bold,
    date_text,
    escape_inline,
    escape_mrkdwn,
    escape_truncated,
    fit,
    link,
    quote,
    truncate,
    user_mention,
    utc_text,
)
from bot.slack.views import (
    ApprovalCardView,
    ApprovalStatus,
    DigestView,
    HomeCaseRow,
    HomeView,
    PausedCustomerRow,
    VipTaskCardView,
    VipTaskStatus,
)
from recovery.domain import AttemptStage

Block = dict[str, Any]

# Slack's limits (https://docs.slack.dev/reference/block-kit/blocks).
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
CONTEXT_ELEMENTS_MAX = 10
CONFIRM_TEXT_MAX = 300
MODAL_TITLE_MAX = 24
INPUT_MAX = 3000
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
# Our own budgets, well inside Slack's limits.
FALLBACK_TEXT_MAX = 1000
NAME_MAX = 120
SUBJECT_MAX = 250
BODY_DISPLAY_MAX = 2500
NOTE_MAX = 1000
HOME_ROWS_MAX = 20
DIGEST_ROWS_MAX = 15
REGENERATE_INSTRUCTION_MAX = 500
REJECT_REASON_MAX = 500


class Message(NamedTuple):
    """A message for chat.postMessage / chat.update: fallback `text` plus `blocks`."""

    text: str
    blocks: list[Block]


# --- Block Kit primitives ----------------------------------------------------------------


def _mrkdwn(text: str) -> Block:
    # verbatim: Slack does not auto-link bare URLs or #channels; our explicit markup still works.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _plain(text: str) -> Block:
    return {"type": "plain_text", "text": text, "emoji": True}


def _section(text: str, *, fields: Sequence[str] = (), block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": _mrkdwn(truncate(text, SECTION_TEXT_MAX))}
    if fields:
        block["fields"] = [_mrkdwn(truncate(f, FIELD_TEXT_MAX)) for f in fields[:10]]
    if block_id:
        block["block_id"] = block_id
    return block


def _context(*texts: str) -> Block:
    parts = [t for t in texts if t][:CONTEXT_ELEMENTS_MAX]
    return {"type": "context", "elements": [_mrkdwn(truncate(t, FIELD_TEXT_MAX)) for t in parts]}


def _header(text: str) -> Block:
    return {"type": "header", "text": _plain(truncate(text, HEADER_TEXT_MAX))}


def _divider() -> Block:
    return {"type": "divider"}


def _button(
    label: str,
    action_id: str,
    value: str,
    *,
    style: str | None = None,
    confirm: Block | None = None,
) -> Block:
    button: Block = {
        "type": "button",
        "text": _plain(label),
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    if confirm:
        button["confirm"] = confirm
    return button


def _confirm(title: str, text: str, yes: str, no: str = "Cancel") -> Block:
    return {
        "title": _plain(truncate(title, 100)),
        "text": _plain(truncate(text, CONFIRM_TEXT_MAX)),
        "confirm": _plain(truncate(yes, 30)),
        "deny": _plain(truncate(no, 30)),
    }


def _actions(block_id: str, *buttons: Block) -> Block:
    return {"type": "actions", "block_id": block_id, "elements": list(buttons)}


def _text_input(
    field: ModalField,
    label: str,
    *,
    initial: str | None = None,
    multiline: bool = False,
    optional: bool = False,
    max_length: int = INPUT_MAX,
    placeholder: str | None = None,
    hint: str | None = None,
) -> Block:
    element: Block = {
        "type": "plain_text_input",
        "action_id": field.action_id,
        "multiline": multiline,
        "max_length": max_length,
    }
    if initial:
        # Inputs show plain text: never escape, just keep within the field's limit.
        element["initial_value"] = initial[:max_length]
    if placeholder:
        element["placeholder"] = _plain(truncate(placeholder, 150))
    block: Block = {
        "type": "input",
        "block_id": field.block_id,
        "label": _plain(truncate(label, 2000)),
        "optional": optional,
        "element": element,
    }
    if hint:
        block["hint"] = _plain(truncate(hint, 2000))
    return block


def _modal(
    callback_id: ModalCallback,
    title: str,
    submit: str,
    blocks: list[Block],
    metadata: ModalMetadata,
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": str(callback_id),
        "title": _plain(truncate(title, MODAL_TITLE_MAX)),
        "submit": _plain(truncate(submit, MODAL_TITLE_MAX)),
        "close": _plain("Cancel"),
        "private_metadata": metadata.dump(),
        "blocks": blocks[:VIEW_BLOCKS_MAX],
    }


# --- shared wording ---------------------------------------------------------------------


def customer_label(name: str | None, email: str | None) -> str:
    """`Jane Doe (jane@example.com)`, escaped for mrkdwn; either part may be missing."""
    clean_name = " ".join((name or "").split())
    clean_email = (email or "").strip()
    if clean_name and clean_email:
        return (
            f"{escape_truncated(clean_name, NAME_MAX, inline=True)} "
            f"({escape_truncated(clean_email, NAME_MAX, inline=True)})"
        )
    if clean_name or clean_email:
        return escape_truncated(clean_name or clean_email, NAME_MAX, inline=True)
    return "unknown customer"


def invoice_label(invoice_id: str, number: str | None) -> str:
    """`invoice ABC-0001 (in_123)` or `invoice in_123`, escaped for mrkdwn."""
    ident = escape_truncated(invoice_id, 64, inline=True)
    if number and number.strip():
        return f"invoice {escape_truncated(number, 64, inline=True)} ({ident})"
    return f"invoice {ident}"


def _who(user_id: str | None) -> str:
    """A mention for a Slack user id; anything else (system actions) reads as 'dunbot'."""
    if not user_id:
        return "dunbot"
    try:
        return user_mention(user_id)
    except ValueError:
        return escape_inline(user_id)


def _when(moment: datetime | None, *, for_blocks: bool) -> str:
    if moment is None:
        return ""
    return f" at {date_text(moment) if for_blocks else utc_text(moment)}"


def _fallback(*parts: str) -> str:
    return truncate(" ".join(p for p in parts if p), FALLBACK_TEXT_MAX)


_STAGE_WORDS = {
    AttemptStage.FIRST: "first attempt",
    AttemptStage.FOLLOW_UP: "follow-up",
    AttemptStage.FINAL: "final attempt",
}


# --- approval card ------------------------------------------------------------------------


def _draft_ref(view: ApprovalCardView) -> str:
    return CardRef(kind=CardKind.DRAFT, id=view.draft_id, version=view.version).dump()


def approval_status_line(view: ApprovalCardView, *, for_blocks: bool = True) -> str | None:
    """What happened to the draft, in words; a paid invoice says so even after a send."""
    line = _approval_decision_line(view, for_blocks=for_blocks)
    if line is not None and view.invoice_paid and view.status is not ApprovalStatus.CANCELLED_PAID:
        line += " · :moneybag: invoice paid since"
    return line


def _approval_decision_line(view: ApprovalCardView, *, for_blocks: bool) -> str | None:
    """What happened to the draft, in words (None while it waits for a decision)."""
    who = _who(view.decided_by)
    when = _when(view.decided_at, for_blocks=for_blocks)
    error = escape_truncated(view.send_error or "", NOTE_MAX) or "no details"
    match view.status:
        case ApprovalStatus.PENDING:
            return None
        case ApprovalStatus.REGENERATING:
            return f":hourglass_flowing_sand: Regenerating the draft (requested by {who})…"
        case ApprovalStatus.APPROVED:
            return f":white_check_mark: Email approved by {who}{when} — sending shortly"
        case ApprovalStatus.WAITING:
            return (
                f":double_vertical_bar: Email approved by {who}{when} — waiting: dunning is paused "
                "for this customer; it is sent when the pause ends (if still unpaid)"
            )
        case ApprovalStatus.SENDING:
            return f":outbox_tray: Email approved by {who}{when} — sending…"
        case ApprovalStatus.SENT:
            sent = _when(view.sent_at, for_blocks=for_blocks)
            return f":white_check_mark: Email sent{sent} — approved by {who}{when}"
        case ApprovalStatus.FAILED:
            return (
                f":x: Sending failed (approved by {who}{when}): {error}. "
                "Fix the cause (e.g. the address), then press Retry."
            )
        case ApprovalStatus.UNKNOWN:
            return (
                f":warning: Delivery unknown (approved by {who}{when}): the connection broke "
                "while sending, so the email may or may not have gone out. Check the mail log, "
                f"then press Retry or Mark as sent. Error: {error}"
            )
        case ApprovalStatus.REJECTED:
            reason = escape_truncated(view.reject_reason or "", NOTE_MAX) or "no reason given"
            at = f" ({when.removeprefix(' at ')})" if when else ""
            return f":no_entry: Draft rejected by {who}: {reason}{at}"
        case ApprovalStatus.CANCELLED_PAID:
            return ":moneybag: Invoice paid — nothing to send"
        case ApprovalStatus.CANCELLED_VOIDED:
            return ":wastebasket: Invoice voided — nothing to send"
        case ApprovalStatus.CANCELLED_UNCOLLECTIBLE:
            return ":wastebasket: Invoice marked uncollectible — nothing to send"
        case ApprovalStatus.SUPERSEDED:
            return ":arrows_counterclockwise: Superseded by a newer draft — see the latest card"
    return f"Status: {escape_inline(str(view.status))}"  # pragma: no cover - closed enum


def _approval_fallback(view: ApprovalCardView) -> str:
    invoice = invoice_label(view.invoice_id, view.invoice_number)
    customer = customer_label(view.customer_name, view.customer_email)
    amount = escape_inline(view.amount_text)
    status = approval_status_line(view, for_blocks=False)
    if status is None:
        return _fallback(f"Approval needed: payment failed on {invoice} for {customer} ({amount})")
    return _fallback(f"{_strip_emoji(status)} — {invoice}, {customer} ({amount})")


def _strip_emoji(line: str) -> str:
    if line.startswith(":"):
        _, _, rest = line[1:].partition(": ")
        return rest or line
    return line


def _approval_source(view: ApprovalCardView) -> str:
    engine = " ".join(escape_inline(p) for p in (view.provider, view.model) if p)
    if view.source == "ai":
        text = f":robot_face: Drafted by AI ({engine})" if engine else ":robot_face: Drafted by AI"
    else:
        text = ":page_facing_up: Template draft"
    if view.fallback_reason:
        text += f" — fallback: {escape_truncated(view.fallback_reason, 200)}"
    return text


def _draft_text(view: ApprovalCardView) -> str:
    subject = escape_truncated(view.subject, SUBJECT_MAX, inline=True)
    body = view.body.replace("\r\n", "\n").strip()
    render: Callable[[str], str] = lambda text: quote(escape_mrkdwn(text))  # noqa: E731
    shown = fit(body, BODY_DISPLAY_MAX, render) if body else ">(empty)"
    if len(shown) < len(render(body)):
        shown += "\n_(shortened here; Edit shows the full draft)_"
    return f"*Subject:* {subject}\n{shown}"


def approval_card(view: ApprovalCardView) -> Message:
    """The approval card of one draft: facts, draft, and buttons while a person must act."""
    invoice = invoice_label(view.invoice_id, view.invoice_number)
    customer = customer_label(view.customer_name, view.customer_email)
    pending = view.status is ApprovalStatus.PENDING
    headline = ":envelope: *Approval needed*" if pending else ":envelope: *Dunning email*"
    stage = _STAGE_WORDS.get(view.stage, escape_inline(str(view.stage)))
    fields = [
        f"*Customer*\n{customer}",
        f"*Invoice*\n{invoice}",
        f"*Amount due*\n{escape_inline(view.amount_text)}",
        f"*Attempt*\n{view.attempt_number} ({stage})",
    ]
    if view.decline_reason:
        fields.append(f"*Decline reason*\n{escape_truncated(view.decline_reason, 300)}")
    if view.ltv_text:
        fields.append(f"*Customer value*\n{escape_truncated(view.ltv_text, 300)}")
    blocks: list[Block] = [
        _section(f"{headline} — payment failed for {bold(customer)}", fields=fields),
    ]
    notes = [f"Standard customer: {escape_truncated(r, 300)}" for r in view.segment_reasons[:3]]
    notes.insert(0, _approval_source(view))
    notes += [f":shield: {escape_truncated(n, 300)}" for n in view.guardrail_notes[:5]]
    blocks.append(_context(*notes))
    blocks.append(_section(_draft_text(view), block_id="draft"))
    status = approval_status_line(view)
    if status:
        blocks.append(_section(status, block_id="status"))
    ref = _draft_ref(view)
    amount = truncate(view.amount_text, 40)
    plain_invoice = truncate(view.invoice_number or view.invoice_id, 60)
    if pending:
        approve_confirm = _confirm(
            "Send this email?",
            f"The email about invoice {plain_invoice} ({amount}) goes to the customer now.",
            "Approve and send",
        )
        blocks.append(
            _actions(
                "approval_actions",
                _button(
                    "Approve", ApprovalAction.APPROVE, ref, style="primary", confirm=approve_confirm
                ),
                _button("Edit", ApprovalAction.EDIT, ref),
                _button("Regenerate", ApprovalAction.REGENERATE, ref),
                _button("Reject", ApprovalAction.REJECT, ref, style="danger"),
            )
        )
    elif view.status is ApprovalStatus.UNKNOWN:
        retry_confirm = _confirm(
            "Send again?",
            f"The first attempt for invoice {plain_invoice} may have been delivered. "
            "Retry only if the mail log shows it was not, or the customer gets it twice.",
            "Send again",
        )
        blocks.append(
            _actions(
                "unknown_actions",
                _button("Retry", ApprovalAction.RETRY_SEND, ref, confirm=retry_confirm),
                _button("Mark as sent", ApprovalAction.MARK_SENT, ref),
            )
        )
    elif view.status is ApprovalStatus.FAILED and not view.invoice_paid:
        retry_confirm = _confirm(
            "Try sending again?",
            f"The email about invoice {plain_invoice} was not delivered. It is sent again "
            "only if the invoice is still unpaid.",
            "Send again",
        )
        blocks.append(
            _actions(
                "failed_actions",
                _button("Retry", ApprovalAction.RETRY_SEND, ref, confirm=retry_confirm),
            )
        )
    return Message(_approval_fallback(view), blocks)


# --- approval modals --------------------------------------------------------------------------


def _approval_modal_meta(view: ApprovalCardView, origin: MessageRef | None) -> ModalMetadata:
    card = CardRef(kind=CardKind.DRAFT, id=view.draft_id, version=view.version)
    return ModalMetadata(card=card, message=origin)


def _about(invoice_id: str, number: str | None, name: str | None, email: str | None) -> Block:
    return _context(f"{invoice_label(invoice_id, number)} · {customer_label(name, email)}")


def edit_modal(view: ApprovalCardView, *, origin: MessageRef | None = None) -> dict[str, Any]:
    """Modal to edit the draft's subject and body, prefilled with the current text."""
    blocks = [
        _about(view.invoice_id, view.invoice_number, view.customer_name, view.customer_email),
        _text_input(
            EditDraftField.SUBJECT, "Subject", initial=view.subject, max_length=SUBJECT_MAX
        ),
        _text_input(
            EditDraftField.BODY,
            "Body",
            initial=view.body,
            multiline=True,
            hint="At most three sentences. Greeting, amount, pay link and signature are added.",
        ),
    ]
    meta = _approval_modal_meta(view, origin)
    return _modal(ModalCallback.EDIT_DRAFT, "Edit draft", "Save draft", blocks, meta)


def regenerate_modal(view: ApprovalCardView, *, origin: MessageRef | None = None) -> dict[str, Any]:
    """Modal to ask for a new draft, with an optional instruction for the writer."""
    blocks = [
        _about(view.invoice_id, view.invoice_number, view.customer_name, view.customer_email),
        _text_input(
            RegenerateDraftField.INSTRUCTION,
            "Instruction (optional)",
            multiline=True,
            optional=True,
            max_length=REGENERATE_INSTRUCTION_MAX,
            placeholder="e.g. warmer tone, mention that the card expired",
        ),
    ]
    meta = _approval_modal_meta(view, origin)
    return _modal(ModalCallback.REGENERATE_DRAFT, "Regenerate draft", "Regenerate", blocks, meta)


def reject_modal(view: ApprovalCardView, *, origin: MessageRef | None = None) -> dict[str, Any]:
    """Modal asking why the draft is rejected (nothing is sent)."""
    blocks = [
        _about(view.invoice_id, view.invoice_number, view.customer_name, view.customer_email),
        _text_input(
            RejectDraftField.REASON,
            "Reason",
            multiline=True,
            max_length=REJECT_REASON_MAX,
            placeholder="e.g. customer already contacted by phone",
        ),
    ]
    meta = _approval_modal_meta(view, origin)
    return _modal(ModalCallback.REJECT_DRAFT, "Reject draft", "Reject", blocks, meta)


def done_modal(view: VipTaskCardView, *, origin: MessageRef | None = None) -> dict[str, Any]:
    """Modal to close a VIP task, with an optional note of what was agreed."""
    blocks = [
        _about(view.invoice_id, view.invoice_number, view.customer_name, view.customer_email),
        _text_input(
            DoneTaskField.NOTE,
            "Note (optional)",
            multiline=True,
            optional=True,
            max_length=NOTE_MAX,
            placeholder="e.g. called the customer, new card on file by Friday",
        ),
    ]
    card = CardRef(kind=CardKind.VIP_TASK, id=view.task_id, version=view.version)
    meta = ModalMetadata(card=card, message=origin)
    return _modal(ModalCallback.DONE_TASK, "Mark task done", "Done", blocks, meta)


# --- VIP task card ------------------------------------------------------------------------


def vip_status_line(view: VipTaskCardView, *, for_blocks: bool = True) -> str:
    """Who holds the task, or how it ended."""
    owner = _who(view.owner_id)
    match view.status:
        case VipTaskStatus.OPEN:
            return ":bell: Unclaimed — an account manager should contact the customer."
        case VipTaskStatus.CLAIMED:
            return (
                f":raising_hand: Task claimed by {owner}"
                f"{_when(view.claimed_at, for_blocks=for_blocks)}"
            )
        case VipTaskStatus.DONE:
            note = escape_truncated(view.note or "", NOTE_MAX)
            when = _when(view.done_at, for_blocks=for_blocks)
            paid = " · :moneybag: invoice paid" if view.invoice_paid else ""
            return (
                f":white_check_mark: Task done by {owner}{when}"
                + (f": {note}" if note else "")
                + paid
            )
        case VipTaskStatus.RESOLVED_PAID:
            return ":moneybag: Resolved — invoice paid"
        case VipTaskStatus.RESOLVED_VOIDED:
            return ":wastebasket: Resolved — invoice voided"
        case VipTaskStatus.RESOLVED_UNCOLLECTIBLE:
            return ":wastebasket: Resolved — invoice marked uncollectible"
    return f"Status: {escape_inline(str(view.status))}"  # pragma: no cover - closed enum


def _vip_headline(view: VipTaskCardView) -> str:
    customer = customer_label(view.customer_name, view.customer_email)
    return f"URGENT: VIP customer {customer} payment failed"


def vip_task_card(view: VipTaskCardView) -> Message:
    """The VIP task card: urgent facts, a Stripe link, and Claim / Release + Done."""
    invoice = invoice_label(view.invoice_id, view.invoice_number)
    fields = [
        f"*Invoice*\n{invoice}",
        f"*Amount due*\n{escape_inline(view.amount_text)}",
    ]
    if view.ltv_text:
        fields.append(f"*Customer value*\n{escape_truncated(view.ltv_text, 300)}")
    if view.decline_reason:
        fields.append(f"*Decline reason*\n{escape_truncated(view.decline_reason, 300)}")
    stripe_link = link(view.dashboard_url, "Open customer in Stripe")
    blocks: list[Block] = [
        _header(":rotating_light: URGENT: VIP payment failed"),
        _section(f"*{_vip_headline(view)}*\n{stripe_link}", fields=fields),
    ]
    reasons = [f"VIP: {escape_truncated(r, 300)}" for r in view.segment_reasons[:5]]
    if reasons:
        blocks.append(_context(*reasons))
    blocks.append(_section(vip_status_line(view), block_id="status"))
    ref = CardRef(kind=CardKind.VIP_TASK, id=view.task_id, version=view.version).dump()
    if view.status is VipTaskStatus.OPEN:
        blocks.append(
            _actions("vip_actions", _button("Claim", VipAction.CLAIM, ref, style="primary"))
        )
    elif view.status is VipTaskStatus.CLAIMED:
        blocks.append(
            _actions(
                "vip_actions",
                _button("Release", VipAction.RELEASE, ref),
                _button("Done", VipAction.DONE, ref, style="primary"),
            )
        )
    text = _fallback(
        f"{_vip_headline(view)} — {invoice} ({escape_inline(view.amount_text)}).",
        _strip_emoji(vip_status_line(view, for_blocks=False)),
    )
    return Message(text, blocks)


def vip_reminder_message(
    task: VipTaskCardView,
    account_manager_ids: Sequence[str],
    *,
    permalink: str | None = None,
) -> Message:
    """A nudge for a VIP task nobody claimed (mentions the account managers) or still open."""
    invoice = invoice_label(task.invoice_id, task.invoice_number)
    customer = customer_label(task.customer_name, task.customer_email)
    about = f"VIP customer {customer}, {invoice} ({escape_inline(task.amount_text)})"
    if task.status is VipTaskStatus.CLAIMED and task.owner_id:
        text = (
            f":alarm_clock: Reminder for {_who(task.owner_id)}: the task for {about} is still open."
        )
    else:
        mentions = " ".join(_who(u) for u in account_manager_ids)
        text = f":alarm_clock: Reminder: nobody has claimed the task for {about}."
        if mentions:
            text += f" {mentions} — please claim it."
    if permalink:
        text += f" {link(permalink, 'Open the task')}"
    return Message(_fallback(text), [_section(text)])


# --- escalation, digest, home ----------------------------------------------------------------


def escalation_message(
    view: ApprovalCardView | VipTaskCardView,
    *,
    reason: str,
    mention_ids: Sequence[str] = (),
    permalink: str | None = None,
) -> Message:
    """Ask people to look at a card that needs a human (stuck approval, unknown delivery…)."""
    invoice = invoice_label(view.invoice_id, view.invoice_number)
    customer = customer_label(view.customer_name, view.customer_email)
    text = (
        f":warning: Needs attention: {escape_truncated(reason, 500)} — {invoice}, "
        f"{customer} ({escape_inline(view.amount_text)})."
    )
    mentions = " ".join(_who(u) for u in mention_ids)
    if mentions:
        text += f" {mentions}"
    blocks = [_section(text)]
    if permalink:
        blocks.append(_context(link(permalink, "Open the card")))
    return Message(_fallback(text), blocks)


def _digest_headline(count: int, window_text: str) -> str:
    noun = "payment" if count == 1 else "payments"
    return f"{count} {noun} failed in {escape_inline(window_text)}; cards in the thread"


def digest_message(view: DigestView) -> Message:
    """One message summarising a burst of failures; the per-invoice cards go in its thread."""
    headline = _digest_headline(len(view.items), view.window_text)
    lines = []
    for item in view.items[:DIGEST_ROWS_MAX]:
        vip = " :star: VIP" if item.vip else ""
        lines.append(
            f"• {invoice_label(item.invoice_id, item.invoice_number)} — "
            f"{customer_label(item.customer_name, item.customer_email)} — "
            f"{escape_inline(item.amount_text)}{vip}"
        )
    hidden = len(view.items) - DIGEST_ROWS_MAX
    if hidden > 0:
        lines.append(f"…and {hidden} more")
    blocks = [_section(f":rotating_light: *{headline}*"), _section("\n".join(lines) or "—")]
    if view.total_texts:
        blocks.append(_context("Total: " + ", ".join(escape_inline(t) for t in view.total_texts)))
    named = ", ".join(
        f"{invoice_label(i.invoice_id, i.invoice_number)} "
        f"({customer_label(i.customer_name, i.customer_email)})"
        for i in view.items[:3]
    )
    more = "…" if len(view.items) > 3 else ""
    return Message(_fallback(f"{headline}: {named}{more}" if named else headline), blocks)


def _home_case_row(row: HomeCaseRow) -> Block:
    parts = [
        f"*{invoice_label(row.invoice_id, row.invoice_number)}*",
        customer_label(row.customer_name, row.customer_email),
        escape_inline(row.amount_text),
    ]
    text = " · ".join(parts) + f" — {row.status_text}"
    if row.opened_at:
        text += f" (since {date_text(row.opened_at)})"
    if row.permalink:
        text += f" {link(row.permalink, 'Open card')}"
    return _section(text)


def _paused_row(row: PausedCustomerRow) -> Block:
    who = customer_label(row.customer_name, row.customer_email)
    text = f"*{who}* (`{escape_inline(row.customer_id)}`)"
    text += f" until {date_text(row.until)}" if row.until else " until resumed"
    if row.reason:
        text += f" — {escape_truncated(row.reason, 300)}"
    if row.paused_by:
        text += f" (by {_who(row.paused_by)})"
    return _section(text)


def _home_list(title: str, rows: Sequence[Any], render: Callable[[Any], Block]) -> list[Block]:
    blocks: list[Block] = [_header(f"{title} ({len(rows)})")]
    if not rows:
        blocks.append(_context("Nothing here."))
    blocks += [render(row) for row in rows[:HOME_ROWS_MAX]]
    if len(rows) > HOME_ROWS_MAX:
        blocks.append(_context(f"…and {len(rows) - HOME_ROWS_MAX} more"))
    return blocks


def home_tab(view: HomeView) -> dict[str, Any]:
    """The App Home view for views.publish: what waits for whom, and who is paused."""
    roles = [
        r
        for r, ok in (("approve drafts", view.can_approve), ("claim VIP tasks", view.can_claim))
        if ok
    ]
    you = f"You can {' and '.join(roles)}." if roles else "You can view cases and pause customers."
    intro = [f"Hi {_who(view.user_id)}. {you}"]
    if view.updated_at:
        intro.append(f"Updated {date_text(view.updated_at)}")
    blocks: list[Block] = [_header("dunbot — failed payment recovery"), _context(*intro)]
    if view.recovered_text:
        blocks.append(_section(f":moneybag: {escape_inline(view.recovered_text)}"))
    blocks.append(_divider())
    blocks += _home_list("Waiting for approval", view.pending_approvals, _home_case_row)
    blocks += _home_list("Open VIP tasks", view.open_vip_tasks, _home_case_row)
    blocks += _home_list("Paused customers", view.paused_customers, _paused_row)
    blocks.append(_context("Type `/dunning help` for pause, resume, status and list."))
    return {"type": "home", "blocks": blocks[:VIEW_BLOCKS_MAX]}
