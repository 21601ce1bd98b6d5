"""The approval card: one draft email for a standard customer, waiting for finance."""

from __future__ import annotations

from bot.slack.blocks.kit import (
    NOTE_MAX,
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
    STAGE_WORDS,
    customer_label,
    fallback,
    invoice_label,
    shown_draft,
    strip_emoji,
    when,
    who,
)
from bot.slack.ids import ApprovalAction
from bot.slack.metadata import CardKind, CardRef
from bot.slack.mrkdwn import (
    bold,
    escape_inline,
    escape_truncated,
    truncate,
)
from bot.slack.views import ApprovalCardView, ApprovalStatus


def draft_ref(view: ApprovalCardView) -> CardRef:
    """The typed reference every button and modal of this card carries."""
    return CardRef(kind=CardKind.DRAFT, id=view.draft_id, version=view.version)


_HEADLINES = {
    ApprovalStatus.PENDING: ":envelope: Approval needed",
    ApprovalStatus.REGENERATING: ":hourglass_flowing_sand: Writing a new draft",
    ApprovalStatus.APPROVED: ":outbox_tray: Approved — sending shortly",
    ApprovalStatus.WAITING: ":double_vertical_bar: Approved — waiting while dunning is paused",
    ApprovalStatus.SENDING: ":outbox_tray: Approved — sending",
    ApprovalStatus.SENT: ":hourglass_flowing_sand: Sent, awaiting payment",
    ApprovalStatus.FAILED: ":x: Sending failed — needs a Retry",
    ApprovalStatus.UNKNOWN: ":warning: Delivery unknown — check before retrying",
    ApprovalStatus.REJECTED: ":no_entry: Rejected — nothing sent",
    ApprovalStatus.CANCELLED_VOIDED: ":wastebasket: Invoice voided — nothing to send",
    ApprovalStatus.CANCELLED_UNCOLLECTIBLE: ":wastebasket: Uncollectible — nothing to send",
    ApprovalStatus.SUPERSEDED: ":arrows_counterclockwise: Replaced by a newer draft",
}


def approval_headline(view: ApprovalCardView) -> str:
    """The card's state in a few words and one symbol, for its header (plain text)."""
    if view.invoice_paid or view.status is ApprovalStatus.CANCELLED_PAID:
        return f":white_check_mark: Paid — {view.amount_text} recovered"
    return _HEADLINES.get(view.status, str(view.status))


def approval_status_line(view: ApprovalCardView, *, for_blocks: bool = True) -> str | None:
    """What happened to the draft and who did it, in words (None while it waits)."""
    line = _decision_line(view, for_blocks=for_blocks)
    if line is not None and view.invoice_paid and view.status is not ApprovalStatus.CANCELLED_PAID:
        line += " — invoice paid since"
    return line


def _decision_line(view: ApprovalCardView, *, for_blocks: bool) -> str | None:
    """What happened to the draft, in words (None while it waits for a decision)."""
    by = who(view.decided_by)
    at = when(view.decided_at, for_blocks=for_blocks)
    error = escape_truncated(view.send_error or "", NOTE_MAX) or "no details"
    match view.status:
        case ApprovalStatus.PENDING:
            return None
        case ApprovalStatus.REGENERATING:
            return f"Regenerating the draft (requested by {by})…"
        case ApprovalStatus.APPROVED:
            return f"Email approved by {by}{at} — sending shortly"
        case ApprovalStatus.WAITING:
            return (
                f"Email approved by {by}{at} — waiting: dunning is paused "
                "for this customer; it is sent when the pause ends (if still unpaid)"
            )
        case ApprovalStatus.SENDING:
            return f"Email approved by {by}{at} — sending…"
        case ApprovalStatus.SENT:
            sent = when(view.sent_at, for_blocks=for_blocks)
            return f"Email sent{sent} — approved by {by}{at}"
        case ApprovalStatus.FAILED:
            return (
                f"Sending failed (approved by {by}{at}): {error}. "
                "Fix the cause (e.g. the address), then press Retry."
            )
        case ApprovalStatus.UNKNOWN:
            return (
                f"Delivery unknown (approved by {by}{at}): the connection broke "
                "while sending, so the email may or may not have gone out. Check the mail log, "
                f"then press Retry or Mark as sent. Error: {error}"
            )
        case ApprovalStatus.REJECTED:
            reason = escape_truncated(view.reject_reason or "", NOTE_MAX) or "no reason given"
            on = f" ({at.removeprefix(' at ')})" if at else ""
            return f"Draft rejected by {by}: {reason}{on}"
        case ApprovalStatus.CANCELLED_PAID:
            return "Invoice paid — nothing to send"
        case ApprovalStatus.CANCELLED_VOIDED:
            return "Invoice voided — nothing to send"
        case ApprovalStatus.CANCELLED_UNCOLLECTIBLE:
            return "Invoice marked uncollectible — nothing to send"
        case ApprovalStatus.SUPERSEDED:
            return "Superseded by a newer draft — see the latest card"
    return f"Status: {escape_inline(str(view.status))}"  # pragma: no cover - closed enum


def _fallback_text(view: ApprovalCardView) -> str:
    invoice = invoice_label(view.invoice_id, view.invoice_number)
    customer = customer_label(view.customer_name, view.customer_email)
    amount = escape_inline(view.amount_text)
    status = approval_status_line(view, for_blocks=False)
    if status is None:
        return fallback(f"Approval needed: payment failed on {invoice} for {customer} ({amount})")
    headline = escape_inline(strip_emoji(approval_headline(view)))
    return fallback(f"{headline}. {status} — {invoice}, {customer} ({amount})")


def _source_note(view: ApprovalCardView) -> str:
    engine = " ".join(escape_inline(p) for p in (view.provider, view.model) if p)
    first = "AI" if view.source == "ai" else "the template"
    if view.edited_by:
        return f":page_facing_up: Edited by {who(view.edited_by)} (first drafted by {first})"
    if view.source == "ai":
        text = f":robot_face: Drafted by AI ({engine})" if engine else ":robot_face: Drafted by AI"
    else:
        text = ":page_facing_up: Template draft"
    if view.fallback_reason:
        text += f" — fallback: {escape_truncated(view.fallback_reason, 200)}"
    return text


def _draft_text(view: ApprovalCardView) -> str:
    draft = shown_draft(subject=view.subject, body=view.body)
    shown = draft.body
    if draft.shortened:
        shown += "\n_(shortened here; Edit shows the full draft)_"
    return f"*Subject:* {draft.subject}\n{shown}"


def _buttons(view: ApprovalCardView) -> Block | None:
    """The actions a person can take in this state (None once nothing is left to do)."""
    ref = draft_ref(view).dump()
    amount = truncate(view.amount_text, 40)
    plain_invoice = truncate(view.invoice_number or view.invoice_id, 60)
    if view.status is ApprovalStatus.PENDING:
        approve_confirm = confirm_dialog(
            "Send this email?",
            f"The email about invoice {plain_invoice} ({amount}) goes to the customer now.",
            "Approve and send",
        )
        channel_choice = []
        if view.sms_choice:
            approve_confirm = confirm_dialog(
                "Send the email and the SMS?",
                f"The email and the SMS about invoice {plain_invoice} ({amount}) go to the "
                "customer now (the SMS only with consent, outside quiet hours).",
                "Approve and send",
            )
            channel_choice = [
                button("Email only", ApprovalAction.APPROVE_EMAIL, ref, confirm=confirm_dialog(
                    "Send only the email?",
                    f"The email about invoice {plain_invoice} ({amount}) goes now; no SMS.",
                    "Send the email",
                )),
                button("SMS only", ApprovalAction.APPROVE_SMS, ref, confirm=confirm_dialog(
                    "Send only the SMS?",
                    f"The SMS about invoice {plain_invoice} ({amount}) goes now; no email.",
                    "Send the SMS",
                )),
            ]  # fmt: skip
        return actions(
            "approval_actions",
            button(
                "Approve", ApprovalAction.APPROVE, ref, style="primary", confirm=approve_confirm
            ),
            *channel_choice,
            button("Edit", ApprovalAction.EDIT, ref),
            button("Regenerate", ApprovalAction.REGENERATE, ref),
            button("Reject", ApprovalAction.REJECT, ref, style="danger"),
        )
    if view.status is ApprovalStatus.UNKNOWN:
        retry_confirm = confirm_dialog(
            "Send again?",
            f"The first attempt for invoice {plain_invoice} may have been delivered. "
            "Retry only if the mail log shows it was not, or the customer gets it twice.",
            "Send again",
        )
        return actions(
            "unknown_actions",
            button("Retry", ApprovalAction.RETRY_SEND, ref, confirm=retry_confirm),
            button("Mark as sent", ApprovalAction.MARK_SENT, ref),
        )
    if view.status is ApprovalStatus.FAILED and not view.invoice_paid:
        retry_confirm = confirm_dialog(
            "Try sending again?",
            f"The email about invoice {plain_invoice} was not delivered. It is sent again "
            "only if the invoice is still unpaid.",
            "Send again",
        )
        return actions(
            "failed_actions",
            button("Retry", ApprovalAction.RETRY_SEND, ref, confirm=retry_confirm),
        )
    return None


_SMS_WORDS = {
    "approved": "SMS queued",
    "held": "SMS held",
    "sending": "SMS sending",
    "sent": "SMS sent ✓",
    "retrying": "SMS will be retried",
    "failed": "SMS failed",
    "unknown": "SMS outcome unknown: check Twilio before sending anything again",
    "skipped": "No SMS",
    "cancelled": "SMS cancelled",
}


def sms_line(status: str, note: str | None) -> str:
    """':iphone: SMS held — until … (quiet hours)'."""
    words = _SMS_WORDS.get(status, escape_inline(status))
    return f":iphone: {words}" + (f" — {escape_truncated(note, 300)}" if note else "")


def approval_card(view: ApprovalCardView) -> Message:
    """The approval card of one draft: facts, draft, and buttons while a person must act."""
    invoice = invoice_label(view.invoice_id, view.invoice_number)
    customer = customer_label(view.customer_name, view.customer_email)
    stage = STAGE_WORDS.get(view.stage, escape_inline(str(view.stage)))
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
    status = approval_status_line(view)
    first_line = (
        f"Payment failed for {bold(customer)}: approve the draft below, edit it, "
        "ask for another, or reject it."
        if status is None
        else status
    )
    blocks: list[Block] = [
        header(approval_headline(view)),
        section(first_line, fields=fields, block_id="status"),
    ]
    notes = [f"Standard customer: {escape_truncated(r, 300)}" for r in view.segment_reasons[:3]]
    notes.insert(0, _source_note(view))
    notes += [f":shield: {escape_truncated(n, 300)}" for n in view.guardrail_notes[:5]]
    blocks.append(context(*notes))
    if view.plan_line:
        blocks.append(context(f":repeat: {view.plan_line}"))
    blocks.append(section(_draft_text(view), block_id="draft"))
    if view.sms_status:
        blocks.append(context(sms_line(view.sms_status, view.sms_note)))
    elif view.sms_preview and view.status is ApprovalStatus.PENDING:
        preview = escape_truncated(view.sms_preview, 300)
        blocks.append(context(f":iphone: SMS (with consent, 08:00–21:00 their time): {preview}"))
    buttons = _buttons(view)
    if buttons is not None:
        blocks.append(buttons)
    return Message(_fallback_text(view), blocks)
