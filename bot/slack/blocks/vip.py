"""The VIP task card and its reminder: an account manager must contact the customer."""

from __future__ import annotations

from collections.abc import Sequence

from bot.slack.blocks.kit import NOTE_MAX, Block, Message, actions, button, context, header, section
from bot.slack.blocks.wording import (
    customer_label,
    fallback,
    invoice_label,
    strip_emoji,
    when,
    who,
)
from bot.slack.ids import VipAction
from bot.slack.metadata import CardKind, CardRef
from bot.slack.mrkdwn import code, escape_inline, escape_truncated, is_user_id, link, user_mention
from bot.slack.views import VipTaskCardView, VipTaskStatus


def task_ref(view: VipTaskCardView) -> CardRef:
    """The typed reference every button and modal of this card carries."""
    return CardRef(kind=CardKind.VIP_TASK, id=view.task_id, version=view.version)


def vip_status_line(view: VipTaskCardView, *, for_blocks: bool = True) -> str:
    """Who holds the task, or how it ended."""
    owner = who(view.owner_id)
    match view.status:
        case VipTaskStatus.OPEN:
            return "Unclaimed — an account manager should contact the customer."
        case VipTaskStatus.CLAIMED:
            return f"Task claimed by {owner}{when(view.claimed_at, for_blocks=for_blocks)}"
        case VipTaskStatus.DONE:
            note = escape_truncated(view.note or "", NOTE_MAX)
            at = when(view.done_at, for_blocks=for_blocks)
            paid = " — invoice paid" if view.invoice_paid else ""
            return f"Task done by {owner}{at}" + (f": {note}" if note else "") + paid
        case VipTaskStatus.RESOLVED_PAID:
            return "Resolved — invoice paid"
        case VipTaskStatus.RESOLVED_VOIDED:
            return "Resolved — invoice voided"
        case VipTaskStatus.RESOLVED_UNCOLLECTIBLE:
            return "Resolved — invoice marked uncollectible"
    return f"Status: {escape_inline(str(view.status))}"  # pragma: no cover - closed enum


def _headline(view: VipTaskCardView) -> str:
    customer = customer_label(view.customer_name, view.customer_email)
    return f"URGENT: VIP customer {customer} payment failed"


def vip_header(view: VipTaskCardView) -> str:
    """The task's state in a few words and one symbol, for its header (plain text)."""
    if view.invoice_paid or view.status is VipTaskStatus.RESOLVED_PAID:
        return f":white_check_mark: Paid — {view.amount_text} recovered"
    match view.status:
        case VipTaskStatus.OPEN:
            return ":rotating_light: URGENT: VIP payment failed — unclaimed"
        case VipTaskStatus.CLAIMED:
            return ":raising_hand: VIP payment failed — claimed, in progress"
        case VipTaskStatus.DONE:
            return ":white_check_mark: VIP task done, awaiting payment"
        case VipTaskStatus.RESOLVED_VOIDED:
            return ":wastebasket: Invoice voided — task closed"
        case VipTaskStatus.RESOLVED_UNCOLLECTIBLE:
            return ":wastebasket: Uncollectible — task closed"
    return str(view.status)  # pragma: no cover - closed enum


def _stripe_line(view: VipTaskCardView) -> str:
    url = view.dashboard_url
    if url is None:
        return f"Sandbox customer {code(view.customer_id)}: not in Stripe (demo billing)"
    return link(url, "Open customer in Stripe")


def _buttons(view: VipTaskCardView) -> Block | None:
    ref = task_ref(view).dump()
    if view.status is VipTaskStatus.OPEN:
        return actions("vip_actions", button("Claim", VipAction.CLAIM, ref, style="primary"))
    if view.status is VipTaskStatus.CLAIMED:
        return actions(
            "vip_actions",
            button("Release", VipAction.RELEASE, ref),
            button("Done", VipAction.DONE, ref, style="primary"),
        )
    return None


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
    owners = [user_mention(o) for o in view.account_owners if is_user_id(o)]
    if owners:
        fields.append("*Account owner*\n" + ", ".join(owners))
    customer = customer_label(view.customer_name, view.customer_email)
    first_line = f"*VIP customer {customer}* — {vip_status_line(view)}"
    blocks: list[Block] = [
        header(vip_header(view)),
        section(f"{first_line}\n{_stripe_line(view)}", fields=fields, block_id="status"),
    ]
    reasons = [f"VIP: {escape_truncated(r, 300)}" for r in view.segment_reasons[:5]]
    if reasons:
        blocks.append(context(*reasons))
    if view.deliveries:
        blocks.append(context(delivery_line(view.deliveries)))
    if view.plan_line:
        blocks.append(context(f":repeat: {view.plan_line}"))
    buttons = _buttons(view)
    if buttons is not None:
        blocks.append(buttons)
    about = f"{invoice} ({escape_inline(view.amount_text)})."
    if view.status is VipTaskStatus.OPEN:
        summary = f"{_headline(view)} — {about}"
    else:
        state = escape_inline(strip_emoji(vip_header(view)))
        summary = f"{state}: VIP customer {customer}, {about}"
    text = fallback(summary, vip_status_line(view, for_blocks=False))
    return Message(text, blocks)


_TARGET_LABELS = {"teams": "Teams", "webhook": "the task webhook"}
_DELIVERY_MARKS = {"delivered": "✓", "pending": "(sending…)", "failed": "✗ (failed)"}


def delivery_line(deliveries: Sequence[tuple[str, str]]) -> str:
    """'Also sent to Teams ✓, the task webhook (sending…)'."""
    parts = [
        f"{_TARGET_LABELS.get(target, escape_inline(target))} {_DELIVERY_MARKS.get(status, status)}"
        for target, status in deliveries
    ]
    return "Also sent to " + ", ".join(parts)


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
            f":alarm_clock: Reminder for {who(task.owner_id)}: the task for {about} is still open."
        )
    else:
        mentions = " ".join(who(u) for u in account_manager_ids)
        text = f":alarm_clock: Reminder: nobody has claimed the task for {about}."
        if mentions:
            text += f" {mentions} — please claim it."
    if permalink:
        text += f" {link(permalink, 'Open the task')}"
    return Message(fallback(text), [section(text)])
