"""Slack listeners for playbook approval cards: authorise, compare-and-set, ack.

Only finance approvers may decide; the first click wins and later ones are told who decided.
The Stripe write itself is a job queued with the decision.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.playbooks.slack_cards import APPROVE_ACTION_ID, REJECT_ACTION_ID, parse_button_value
from bot.slack.jobs import enqueue_ephemeral
from recovery.playbooks.runner import Decision, PlaybookRunner

log = logging.getLogger("dunbot.slack")

NOT_FINANCE = "Only the finance approvers (FINANCE_APPROVERS) can do this; nothing changed."


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
    app: AsyncApp, *, runner: PlaybookRunner, finance_approvers: frozenset[str]
) -> None:
    """Wire the Approve/Refund and Reject buttons of playbook cards onto `app`."""
    db = runner.db

    def listener(approve: bool) -> Any:
        async def handle(ack: AsyncAck, body: dict[str, Any]) -> None:
            user = body["user"]["id"]
            channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
                "channel_id"
            )
            action_id = parse_button_value((body.get("actions") or [{}])[0].get("value"))
            async with db.transaction() as session:
                if user not in finance_approvers:
                    text = NOT_FINANCE
                elif action_id is None:
                    log.warning("bad playbook button value")
                    text = "This button is not one of dunbot's current cards."
                else:
                    decision = await runner.decide_in(
                        session, action_id, approve=approve, user=user
                    )
                    text = decision_message(decision, approve=approve)
                await enqueue_ephemeral(session, channel=channel, user=user, text=text)
            await ack()

        return handle

    app.action(APPROVE_ACTION_ID)(listener(True))
    app.action(REJECT_ACTION_ID)(listener(False))
