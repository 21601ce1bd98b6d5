"""The Retry button on a dead job's alert: finance approvers only, one retry per death."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.dead_jobs import retry_job
from bot.slack.dead_job_alert import enqueue_card_update
from bot.slack.handlers import NOT_FINANCE, SlackDeps
from bot.slack.ids import DeadJobAction
from bot.slack.jobs import enqueue_ephemeral
from bot.slack.metadata import CardKind, CardRef, MetadataError

log = logging.getLogger("dunbot.slack")


def register_dead_job_retry(app: AsyncApp, deps: SlackDeps) -> None:
    """Wire the Retry button of dead-job alerts onto `app`."""

    async def retry(ack: AsyncAck, body: dict[str, Any]) -> None:
        user = str((body.get("user") or {}).get("id") or "")
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        actions = body.get("actions") or [{}]
        async with deps.db.transaction() as session:
            if user not in deps.finance_approvers:
                answer = NOT_FINANCE
            else:
                try:
                    ref = CardRef.parse(actions[0].get("value")).expect(CardKind.DEAD_JOB)
                except MetadataError as error:
                    log.warning("bad retry button value", extra={"error": str(error)})
                    answer = "This button is not one of dunbot's current alerts."
                else:
                    outcome = await retry_job(session, job_id=ref.id, actor=f"slack:{user}")
                    if outcome.ok:
                        await enqueue_card_update(session, alert_id=ref.version, retried_by=user)
                    answer = outcome.message
            if user:
                await enqueue_ephemeral(session, channel=channel, user=user, text=answer)
        await ack()

    app.action(DeadJobAction.RETRY)(retry)
