"""Slack listeners of the close-out card: authorise, compare-and-set, ack.

Only finance approvers may decide; the first click wins (a second click, by the same person or
another, is told who decided); the Stripe writes are jobs queued with the decision.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from sqlalchemy.ext.asyncio import AsyncSession

from bot.playbooks.card_buttons import ClickHandler, approver_click_handler
from bot.playbooks.plan_cards import (
    APPROVE_ACTION_ID,
    CARD_KIND,
    POSTPONE_ACTION_ID,
    REJECT_ACTION_ID,
    parse_button_value,
)
from recovery.plans.progress import day
from recovery.plans.service import CloseoutDecision, PlanService


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

    def listener(choice: str) -> ClickHandler:
        async def decide(session: AsyncSession, plan_id: int, user: str) -> str:
            decision = await service.decide(session, plan_id, choice=choice, user=user)
            return decision_message(decision, choice=choice)

        return approver_click_handler(
            db=db,
            allowed=finance_approvers,
            card_kind=CARD_KIND,
            noun="close-out",
            parse=parse_button_value,
            decide=decide,
        )

    app.action(APPROVE_ACTION_ID)(listener("approve"))
    app.action(POSTPONE_ACTION_ID)(listener("postpone"))
    app.action(REJECT_ACTION_ID)(listener("reject"))
