"""Slack listeners of the close-out card: authorise, compare-and-set, ack.

Only finance approvers may decide; the first click wins (a second click, by the same person or
another, is told who decided); the Stripe writes are jobs queued with the decision.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.playbooks.plan_cards import (
    APPROVE_ACTION_ID,
    CARD_KIND,
    POSTPONE_ACTION_ID,
    REJECT_ACTION_ID,
    parse_button_value,
)
from bot.playbooks.slack_handlers import NOT_FINANCE
from bot.slack.jobs import enqueue_ephemeral
from bot.slack.middleware import FOREIGN_CARD, clicked_message, posted_at
from recovery.plans.progress import day
from recovery.plans.service import CloseoutDecision, PlanService

log = logging.getLogger("dunbot.slack")


def decision_message(decision: CloseoutDecision, *, choice: str) -> str:
    """What the person who clicked is told."""
    if decision.outcome == "missing":
        return "This card is not one of dunbot's current close-out cards; nothing changed."
    if decision.outcome == "already":
        by = f" by <@{decision.by}>" if decision.by else ""
        return f"Already {decision.status.replace('_', ' ')}{by}; nothing changed."
    if choice == "approve":
        return "Approved: dunbot is closing out now; the card will say when it is done."
    if choice == "postpone":
        when = day(decision.until) if decision.until else "in 7 days"
        return f"Postponed: the close-out card comes back on {when}."
    return "Rejected: the subscription is kept and the invoice stays open."


def register_plan_listeners(
    app: AsyncApp, *, service: PlanService, finance_approvers: frozenset[str]
) -> None:
    """Wire Approve / Postpone 7 days / Reject of close-out cards onto `app`."""
    db = service.db

    def listener(choice: str) -> Any:
        async def handle(ack: AsyncAck, body: dict[str, Any]) -> None:
            user = body["user"]["id"]
            channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
                "channel_id"
            )
            plan_id = parse_button_value((body.get("actions") or [{}])[0].get("value"))
            async with db.transaction() as session:
                if user not in finance_approvers:
                    text = NOT_FINANCE
                elif plan_id is None:
                    log.warning("bad close-out button value")
                    text = "This button is not one of dunbot's current cards."
                elif not await posted_at(
                    session, clicked_message(body), card_kind=CARD_KIND, subject_id=plan_id
                ):
                    log.warning("close-out button value of another card")
                    text = FOREIGN_CARD
                else:
                    decision = await service.decide(session, plan_id, choice=choice, user=user)
                    text = decision_message(decision, choice=choice)
                await enqueue_ephemeral(session, channel=channel, user=user, text=text)
            await ack()

        return handle

    app.action(APPROVE_ACTION_ID)(listener("approve"))
    app.action(POSTPONE_ACTION_ID)(listener("postpone"))
    app.action(REJECT_ACTION_ID)(listener("reject"))
