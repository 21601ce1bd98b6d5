"""The close-out card of a dunning plan: "Close out: cancel subscription sub_… and mark invoice
in_… uncollectible after 8 failed retries" with **Approve** (confirm) / **Postpone 7 days** /
**Reject**. Block builders are pure; `PlanSlack` posts the card once and updates it in place."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.playbooks.card_buttons import CardButtons
from bot.playbooks.slack_cards import Message, _context, _section, post_card, update_card
from bot.slack.mrkdwn import escape_inline, user_mention
from recovery.money import format_amount
from recovery.plans.model import CancelWhen, ClosingAction, DunningPlan
from recovery.plans.progress import day
from recovery.playbooks.rules import Playbook
from storage.db import Database
from storage.models import Case, CasePlan, CasePlanStatus, SlackMessage

CARD_KIND = "plan_closeout"
APPROVE_ACTION_ID = "plan_closeout_approve"
POSTPONE_ACTION_ID = "plan_closeout_postpone"
REJECT_ACTION_ID = "plan_closeout_reject"
BUTTONS = CardButtons("plan_closeout:")
VALUE_PREFIX = BUTTONS.prefix
Status = CasePlanStatus
button_value = BUTTONS.value
parse_button_value = BUTTONS.parse  # the case plan a close-out button names, None when none


def closeout_words(row: CasePlan, plan: DunningPlan | None) -> str:
    """'cancel subscription sub_1 and mark invoice in_1 uncollectible after 8 failed retries'."""
    closing = plan.closing if plan is not None else ()
    parts = []
    for action in closing:
        if action is ClosingAction.CANCEL_SUBSCRIPTION:
            sub = row.subscription_id or "(none on the invoice)"
            at_end = plan is not None and plan.cancel is CancelWhen.PERIOD_END
            parts.append(f"cancel subscription {sub}" + (" at period end" if at_end else ""))
        elif action is ClosingAction.MARK_UNCOLLECTIBLE:
            parts.append(f"mark invoice {row.invoice_id} uncollectible")
        else:
            parts.append(f"void invoice {row.invoice_id}")
    what = " and ".join(parts) or f"leave invoice {row.invoice_id} open"
    retries = row.retries_done
    return f"{what} after {retries} failed retr{'y' if retries == 1 else 'ies'}"


def _status_line(row: CasePlan) -> str:
    by = user_mention(row.decided_by) if row.decided_by else "someone"
    result = escape_inline(row.result or "")
    match row.status:
        case Status.AWAITING_APPROVAL:
            return "Waiting for a finance approver."
        case Status.POSTPONED:
            when = day(row.closeout_at) if row.closeout_at else "later"
            return f"Postponed by {by} to {when}; the card comes back then."
        case Status.CLOSING:
            return f"Approved by {by}; closing out now."
        case Status.CLOSED:
            return f"Closed out — approved by {by}: {result}."
        case Status.REJECTED:
            return f"Rejected by {by}: the subscription is kept and the invoice stays open."
        case Status.STOPPED:
            return (
                f":white_check_mark: Nothing to close out: {result}. The close-out was cancelled."
            )
        case _:
            return f"{escape_inline(str(row.status)).capitalize()}: {result}"


def _button(action_id: str, label: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def closeout_card(row: CasePlan, case: Case, plan: DunningPlan | None) -> Message:
    """The card of a close-out waiting for (or past) a finance decision."""
    words = escape_inline(closeout_words(row, plan))
    head = f"*Close out:* {words}"
    who = case.customer_email or case.customer_name or case.customer_id
    invoice = case.invoice_number or case.invoice_id
    amount = format_amount(case.amount_remaining or case.amount_due, case.currency)
    facts = (
        f"Customer {escape_inline(who)} · invoice {escape_inline(invoice)} · "
        f"{escape_inline(amount)} due · plan {escape_inline(row.plan_name)} "
        f"({escape_inline(row.assigned_by)})"
    )
    blocks = [_section(head), _context(facts), _section(_status_line(row))]
    if row.status == Status.AWAITING_APPROVAL:
        value = button_value(row.id)
        approve = _button(APPROVE_ACTION_ID, "Approve", value, style="primary")
        approve["confirm"] = {
            "title": {"type": "plain_text", "text": "Close out?"},
            "text": {"type": "mrkdwn", "text": f"Dunbot will {words[:280]}."},
            "confirm": {"type": "plain_text", "text": "Approve"},
            "deny": {"type": "plain_text", "text": "Cancel"},
        }
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    approve,
                    _button(POSTPONE_ACTION_ID, "Postpone 7 days", value),
                    _button(REJECT_ACTION_ID, "Reject", value, style="danger"),
                ],
            }
        )
    text = f"Close out: {closeout_words(row, plan)}"
    return Message(text=escape_inline(text)[:3000], blocks=blocks)


class PlanSlack:
    """`recovery.plans.ports.PlanNotifier` on Slack's Web API."""

    def __init__(
        self, *, db: Database, client: AsyncWebClient, channel: str | None, playbook: Playbook
    ) -> None:
        self.db = db
        self.client = client
        self.channel = channel
        self.playbook = playbook

    async def sync_closeout_card(self, *, plan_id: int) -> None:
        async with self.db.sessions() as session:
            row = await session.get(CasePlan, plan_id)
            case = await session.get(Case, row.case_id) if row is not None else None
            existing = await session.scalar(
                select(SlackMessage).where(
                    SlackMessage.card_kind == CARD_KIND, SlackMessage.subject_id == plan_id
                )
            )
        if row is None or case is None:
            return
        message = closeout_card(row, case, self.playbook.plan(row.plan_name))
        if existing is not None and existing.ts:
            await update_card(
                self.client, channel=existing.channel, ts=existing.ts, message=message
            )
            return
        if row.closeout_round == 0:
            return  # never shown: a plan stopped before its close-out has no card to update
        if not self.channel:
            raise RuntimeError("no channel for close-out cards (SLACK_APPROVALS_CHANNEL)")
        posted_channel, ts = await post_card(self.client, channel=self.channel, message=message)
        async with self.db.transaction() as session:
            session.add(
                SlackMessage(
                    card_kind=CARD_KIND,
                    subject_id=plan_id,
                    case_id=case.id,
                    channel=posted_channel,
                    ts=ts,
                )
            )
