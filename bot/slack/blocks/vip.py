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
from bot.slack.mrkdwn import escape_inline, escape_truncated, link
from bot.slack.views import VipTaskCardView, VipTaskStatus


def task_ref(view: VipTaskCardView) -> CardRef:
    """The typed reference every button and modal of this card carries."""
    return CardRef(kind=CardKind.VIP_TASK, id=view.task_id, version=view.version)


def vip_status_line(view: VipTaskCardView, *, for_blocks: bool = True) -> str:
    """Who holds the task, or how it ended."""
    owner = who(view.owner_id)
    match view.status:
        case VipTaskStatus.OPEN:
            return ":bell: Unclaimed — an account manager should contact the customer."
        case VipTaskStatus.CLAIMED:
            return (
                f":raising_hand: Task claimed by {owner}"
                f"{when(view.claimed_at, for_blocks=for_blocks)}"
            )
        case VipTaskStatus.DONE:
            note = escape_truncated(view.note or "", NOTE_MAX)
            at = when(view.done_at, for_blocks=for_blocks)
            paid = " · :moneybag: invoice paid" if view.invoice_paid else ""
            return (
                f":white_check_mark: Task done by {owner}{at}"
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


def _headline(view: VipTaskCardView) -> str:
    customer = customer_label(view.customer_name, view.customer_email)
    return f"URGENT: VIP customer {customer} payment failed"


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
    stripe_link = link(view.dashboard_url, "Open customer in Stripe")
    blocks: list[Block] = [
        header(":rotating_light: URGENT: VIP payment failed"),
        section(f"*{_headline(view)}*\n{stripe_link}", fields=fields),
    ]
    reasons = [f"VIP: {escape_truncated(r, 300)}" for r in view.segment_reasons[:5]]
    if reasons:
        blocks.append(context(*reasons))
    blocks.append(section(vip_status_line(view), block_id="status"))
    buttons = _buttons(view)
    if buttons is not None:
        blocks.append(buttons)
    text = fallback(
        f"{_headline(view)} — {invoice} ({escape_inline(view.amount_text)}).",
        strip_emoji(vip_status_line(view, for_blocks=False)),
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
