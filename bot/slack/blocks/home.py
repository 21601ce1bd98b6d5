"""The App Home tab: what waits for whom, and who is paused."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bot.slack.blocks.kit import VIEW_BLOCKS_MAX, Block, context, divider, header, section
from bot.slack.blocks.wording import customer_label, invoice_label, who
from bot.slack.mrkdwn import channel_mention, date_text, escape_inline, escape_truncated, link
from bot.slack.views import (
    HomeBatchRow,
    HomeCaseRow,
    HomeView,
    OwnedCustomerRow,
    PausedCustomerRow,
)

HOME_ROWS_MAX = 20


def _queue_row(row: HomeCaseRow | HomeBatchRow) -> Block:
    """A draft or a batch waiting for approval."""
    if isinstance(row, HomeCaseRow):
        return _case_row(row)
    text = (
        f"*Batch of {row.count:,} drafts* · {escape_inline(row.total_text)} · {row.group_text}"
        " — waiting for approval"
    )
    if row.opened_at:
        text += f" (since {date_text(row.opened_at)})"
    if row.channel:
        try:
            text += f" in {channel_mention(row.channel)}"
        except ValueError:
            pass
    return section(text)


def _case_row(row: HomeCaseRow) -> Block:
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
    return section(text)


def _paused_row(row: PausedCustomerRow) -> Block:
    name = customer_label(row.customer_name, row.customer_email)
    text = f"*{name}* (`{escape_inline(row.customer_id)}`)"
    text += f" until {date_text(row.until)}" if row.until else " until resumed"
    if row.reason:
        text += f" — {escape_truncated(row.reason, 300)}"
    if row.paused_by:
        text += f" (by {who(row.paused_by)})"
    return section(text)


def _owned_row(row: OwnedCustomerRow) -> Block:
    name = customer_label(row.customer_name, row.customer_email)
    text = f"*{name}* (`{escape_inline(row.customer_id)}`) — {escape_inline(row.facts_text)}"
    if row.excluded:
        text += " — excluded from dunning"
    return section(text)


def _listing(title: str, rows: Sequence[Any], render: Callable[[Any], Block]) -> list[Block]:
    blocks: list[Block] = [header(f"{title} ({len(rows)})")]
    if not rows:
        blocks.append(context("Nothing here."))
    blocks += [render(row) for row in rows[:HOME_ROWS_MAX]]
    if len(rows) > HOME_ROWS_MAX:
        blocks.append(context(f"…and {len(rows) - HOME_ROWS_MAX} more"))
    return blocks


def home_tab(view: HomeView) -> dict[str, Any]:
    """The App Home view for views.publish: what waits for whom, and who is paused."""
    roles = [
        r
        for r, ok in (("approve drafts", view.can_approve), ("claim VIP tasks", view.can_claim))
        if ok
    ]
    you = f"You can {' and '.join(roles)}." if roles else "You can view cases and pause customers."
    intro = [f"Hi {who(view.user_id)}. {you}"]
    if view.updated_at:
        intro.append(f"Updated {date_text(view.updated_at)}")
    blocks: list[Block] = [header("dunbot — failed payment recovery"), context(*intro)]
    if view.recovered_text:
        blocks.append(section(f":moneybag: {escape_inline(view.recovered_text)}"))
    blocks.append(divider())
    blocks += _listing("Waiting for approval", view.pending_approvals, _queue_row)
    blocks += _listing("Open VIP tasks", view.open_vip_tasks, _case_row)
    blocks += _listing("Paused customers", view.paused_customers, _paused_row)
    if view.my_customers:
        blocks += _listing("My customers", view.my_customers, _owned_row)
    blocks.append(context("Type `/dunning help` for pause, resume, status and list."))
    return {"type": "home", "blocks": blocks[:VIEW_BLOCKS_MAX]}
