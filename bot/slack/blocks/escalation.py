"""The escalation message: a card needs a human (stuck approval, unknown delivery…)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.slack.blocks.kit import Message, context, section
from bot.slack.blocks.wording import customer_label, fallback, invoice_label, who
from bot.slack.mrkdwn import escape_inline, escape_truncated, link
from bot.slack.views import ApprovalCardView, VipTaskCardView


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
    mentions = " ".join(who(u) for u in mention_ids)
    if mentions:
        text += f" {mentions}"
    blocks = [section(text)]
    if permalink:
        blocks.append(context(link(permalink, "Open the card")))
    return Message(fallback(text), blocks)
