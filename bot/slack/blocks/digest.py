"""The burst digest: many failures in one message, the per-invoice cards in its thread."""

from __future__ import annotations

from bot.slack.blocks.kit import Message, context, section
from bot.slack.blocks.wording import customer_label, fallback, invoice_label
from bot.slack.mrkdwn import escape_inline
from bot.slack.views import DigestView

DIGEST_ROWS_MAX = 15


def _headline(count: int, window_text: str) -> str:
    noun = "payment" if count == 1 else "payments"
    return f"{count} {noun} failed in {escape_inline(window_text)}; cards in the thread"


def digest_message(view: DigestView) -> Message:
    """One message summarising a burst of failures; the per-invoice cards go in its thread."""
    headline = _headline(len(view.items), view.window_text)
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
    blocks = [section(f":rotating_light: *{headline}*"), section("\n".join(lines) or "—")]
    if view.total_texts:
        blocks.append(context("Total: " + ", ".join(escape_inline(t) for t in view.total_texts)))
    named = ", ".join(
        f"{invoice_label(i.invoice_id, i.invoice_number)} "
        f"({customer_label(i.customer_name, i.customer_email)})"
        for i in view.items[:3]
    )
    more = "…" if len(view.items) > 3 else ""
    return Message(fallback(f"{headline}: {named}{more}" if named else headline), blocks)
