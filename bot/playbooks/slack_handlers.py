"""Slack listeners for playbook approval cards: authorise, compare-and-set, ack.

Only finance approvers may decide; the first click wins and later ones are told who decided.
The Stripe write itself is a job queued with the decision.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.playbooks.card_buttons import ClickHandler, approver_click_handler
from bot.playbooks.home import TOGGLE_ACTION_ID, parse_toggle_value
from bot.playbooks.overdue_cards import CLAIM_ACTION_ID, OVERDUE_CARD_KIND, parse_claim_value
from bot.playbooks.slack_cards import (
    APPROVE_ACTION_ID,
    CARD_KIND,
    REJECT_ACTION_ID,
    parse_button_value,
)
from bot.slack.jobs import enqueue_home
from recovery import audit
from recovery.jobkinds import JobKind
from recovery.playbooks.runner import Decision, PlaybookRunner
from recovery.playbooks.store import set_rule_enabled
from storage.db import rows_affected
from storage.models import PlaybookAction, PlaybookFiring
from storage.queue import enqueue

log = logging.getLogger("dunbot.slack")

NOT_CLAIMER = (
    "Only finance approvers and account managers (FINANCE_APPROVERS, ACCOUNT_MANAGERS) can "
    "claim an overdue invoice; nothing changed."
)


def decision_message(decision: Decision, *, approve: bool) -> str:
    """What the person who clicked is told."""
    if decision.outcome == "missing":
        return "This card is not one of dunbot's current playbook cards; nothing changed."
    if decision.outcome == "already":
        by = f" by <@{decision.by}>" if decision.by else ""
        return f"Already {decision.status.replace('_', ' ')}{by}; nothing changed."
    if approve:
        return "Approved: dunbot is doing it now; the card will say when it is done."
    return "Rejected: nothing will be done for this event."


def register_playbook_listeners(
    app: AsyncApp,
    *,
    runner: PlaybookRunner,
    finance_approvers: frozenset[str],
    account_managers: frozenset[str] = frozenset(),
) -> None:
    """Wire the Approve/Refund and Reject buttons of playbook cards onto `app`."""
    db = runner.db

    def listener(approve: bool) -> ClickHandler:
        async def decide(session: AsyncSession, action_id: int, user: str) -> str:
            decision = await runner.decide_in(session, action_id, approve=approve, user=user)
            return decision_message(decision, approve=approve)

        return approver_click_handler(
            db=db,
            allowed=finance_approvers,
            card_kind=CARD_KIND,
            noun="playbook",
            parse=parse_button_value,
            decide=decide,
        )

    app.action(APPROVE_ACTION_ID)(listener(True))
    app.action(REJECT_ACTION_ID)(listener(False))

    claimers = finance_approvers | account_managers

    async def claim(session: AsyncSession, action_id: int, user: str) -> str:
        return await claim_overdue(session, action_id=action_id, user=user)

    claim_handler = approver_click_handler(
        db=db,
        allowed=claimers,
        refusal=NOT_CLAIMER,
        card_kind=OVERDUE_CARD_KIND,
        noun="overdue claim",
        parse=parse_claim_value,
        decide=claim,
    )
    app.action(CLAIM_ACTION_ID)(claim_handler)

    async def toggle(ack: AsyncAck, body: dict[str, Any]) -> None:
        """App Home: a finance approver switches a rule on or off (stored, audited)."""
        user = body["user"]["id"]
        parsed = parse_toggle_value((body.get("actions") or [{}])[0].get("value"))
        rule = runner.playbook.rule(parsed[0]) if parsed else None
        async with db.transaction() as session:
            if user in finance_approvers and parsed is not None and rule is not None:
                await set_rule_enabled(
                    session,
                    rule_name=rule.name,
                    enabled=parsed[1],
                    actor=f"slack:{user}",
                    version=rule.version,
                )
            await enqueue_home(session, user=user)  # show the state as it is now
        await ack()

    app.action(TOGGLE_ACTION_ID)(toggle)


async def claim_overdue(session: AsyncSession, *, action_id: int, user: str) -> str:
    """The first Claim wins (compare-and-set on the action's version); the card is redrawn."""
    action = await session.get(PlaybookAction, action_id)
    if action is None or action.type != "alert_overdue":
        return "This card is not one of dunbot's current overdue alerts; nothing changed."
    detail = dict(action.detail or {})
    if detail.get("claimed_by"):
        return f"Already claimed by <@{detail['claimed_by']}>; nothing changed."
    result = await session.execute(
        update(PlaybookAction)
        .where(PlaybookAction.id == action_id, PlaybookAction.version == action.version)
        .values(detail={**detail, "claimed_by": user}, version=PlaybookAction.version + 1)
    )
    if rows_affected(result) != 1:
        return "Someone claimed it at the same moment; the card shows who."
    firing = await session.get(PlaybookFiring, action.firing_id)
    await audit.record(
        session,
        actor=f"slack:{user}",
        action="playbook.overdue_claimed",
        customer_id=firing.customer_id if firing else None,
        subject=firing.subject_id if firing else None,
        rule=firing.rule_name if firing else None,
    )
    await enqueue(
        session,
        kind=JobKind.PLAYBOOK_NOTIFY,
        payload={"call": "overdue_card", "action_id": action_id},
        serial_key=f"playbook_card:{action_id}",
    )
    return "Claimed: the invoice is yours to follow up; the card says so."
