"""The Retry button of a dead job's alert (finance approvers; one retry however often clicked).

Registered as one `Decide` row in `bot.slack.handlers.routes`: the middleware has checked the
role and that the button belongs to the alert it was clicked on.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.dead_jobs import retry_job
from bot.slack.dead_job_alert import enqueue_card_update
from bot.slack.deps import SlackDeps
from bot.slack.middleware import Click
from recovery.decisions import Outcome
from storage.models import Job

NOT_AN_ALERT = Outcome(False, "Nothing changed: this alert no longer names a job.")


async def retry_dead_job(session: AsyncSession, click: Click, _deps: SlackDeps) -> Outcome:
    """Queue the job the alert names to run again; the alert then says who retried it."""
    alert = await session.get(Job, click.card.id)
    dead_id = (alert.payload or {}).get("job_id") if alert is not None else None
    if not isinstance(dead_id, int):
        return NOT_AN_ALERT
    outcome = await retry_job(session, job_id=dead_id, actor=f"slack:{click.user}")
    if outcome.ok:
        await enqueue_card_update(session, alert_id=click.card.id, retried_by=click.user)
    return Outcome(outcome.ok, outcome.message)
