"""Overdue invoices in Slack: the alert card (days overdue, amount, owner, Claim) and the
daily digest. Block builders are pure; customer data is escaped for mrkdwn."""

from __future__ import annotations

from typing import Any

from bot.playbooks.slack_cards import Message, _context, _section
from bot.slack.mrkdwn import _USER_ID, escape_inline, user_mention
from recovery.money import format_amount
from recovery.playbooks.ports import OverdueAlert

OVERDUE_CARD_KIND = "overdue_alert"
CLAIM_ACTION_ID = "overdue_claim"
CLAIM_PREFIX = "overdue_claim:"


def claim_value(action_id: int) -> str:
    return f"{CLAIM_PREFIX}{action_id}"


def parse_claim_value(value: str | None) -> int | None:
    """The playbook action a Claim button names, None when it names none."""
    if not value or not value.startswith(CLAIM_PREFIX):
        return None
    rest = value.removeprefix(CLAIM_PREFIX)
    return int(rest) if rest.isdigit() and len(rest) < 19 else None


def _person(who: str) -> str:
    """A Slack user id as a mention; anything else as escaped text."""
    return user_mention(who) if _USER_ID.match(who) else escape_inline(who)


def _days(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


def overdue_card(alert: OverdueAlert, *, claimed_by: str | None = None) -> Message:
    """The alert: which invoice, how late, how much, whose customer; Claim until claimed."""
    invoice = escape_inline(alert.invoice_id)
    number = f" ({escape_inline(alert.number)})" if alert.number else ""
    who = escape_inline(alert.customer_name or alert.customer_id or "unknown customer")
    customer = (
        f"{who} ({escape_inline(alert.customer_id)})"
        if alert.customer_name and alert.customer_id
        else who
    )
    head = (
        f"*Overdue invoice {invoice}{number}*: {escape_inline(alert.amount)} open, "
        f"{_days(alert.days_overdue)} overdue · customer {customer}"
    )
    blocks: list[dict[str, Any]] = [_section(head)]
    if alert.owner:
        blocks.append(_section(f"Owner: {_person(alert.owner)}"))
    if claimed_by:
        blocks.append(_section(f"Claimed by {_person(claimed_by)}."))
    else:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": CLAIM_ACTION_ID,
                        "text": {"type": "plain_text", "text": "Claim"},
                        "style": "primary",
                        "value": claim_value(alert.action_id),
                    }
                ],
            }
        )
    blocks.append(_context(f"Playbook “{escape_inline(alert.rule)}”"))
    text = (
        f"Overdue invoice {alert.invoice_id}{' (' + alert.number + ')' if alert.number else ''}:"
        f" {alert.amount} open, {_days(alert.days_overdue)} overdue"
    )
    return Message(text=escape_inline(text)[:3000], blocks=blocks)


def overdue_digest(lines: list[dict[str, Any]]) -> Message:
    """The daily list of invoices still overdue, oldest due first."""
    rows = []
    for line in lines:
        amount = format_amount(int(line.get("amount_remaining") or 0), str(line["currency"]))
        number = f" ({escape_inline(str(line['number']))})" if line.get("number") else ""
        customer = escape_inline(str(line.get("customer_id") or "—"))
        rows.append(
            f"• {escape_inline(str(line['invoice_id']))}{number} · {escape_inline(amount)} · "
            f"{_days(int(line.get('days') or 0))} overdue · {customer}"
        )
    count = len(lines)
    head = f"*Still overdue today: {count} invoice{'s' if count != 1 else ''}*"
    text = head + "\n" + "\n".join(rows)
    return Message(
        text=f"Still overdue today: {count} invoice{'s' if count != 1 else ''}",
        blocks=[_section(text)],
    )


def alert_detail(alert: OverdueAlert) -> dict[str, Any]:
    """What is stored with the action to redraw the card after a Claim."""
    return {
        "invoice_id": alert.invoice_id,
        "number": alert.number,
        "customer_id": alert.customer_id,
        "customer_name": alert.customer_name,
        "owner": alert.owner,
        "amount": alert.amount,
        "days_overdue": alert.days_overdue,
        "rule": alert.rule,
    }


def alert_from_detail(action_id: int, detail: dict[str, Any]) -> OverdueAlert:
    return OverdueAlert(
        action_id=action_id,
        invoice_id=str(detail.get("invoice_id")),
        number=detail.get("number"),
        customer_id=detail.get("customer_id"),
        customer_name=detail.get("customer_name"),
        owner=detail.get("owner"),
        amount=str(detail.get("amount")),
        days_overdue=int(detail.get("days_overdue") or 0),
        rule=str(detail.get("rule")),
    )
