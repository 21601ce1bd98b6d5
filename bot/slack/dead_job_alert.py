"""The alert for a dead job, in the alerts channel: what died, why, and a Retry button.

`job_died` (enqueued by the queue with the death) posts it once; after a Retry click a
`slack_dead_job_card` job updates it in place to say who retried (and drops the button).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.dead_jobs import dead_job_view
from bot.slack.blocks.dead_job import dead_job_card
from bot.slack.metadata import CardKind
from recovery.jobkinds import JobKind
from storage.db import Database
from storage.models import Job, SlackMessage
from storage.queue import ClaimedJob, RetryLater, enqueue
from storage.worker import JobHandler

CARD_KIND = CardKind.DEAD_JOB.message_kind  # SlackMessage.card_kind; subject_id: the alert


async def enqueue_card_update(session: AsyncSession, *, alert_id: int, retried_by: str) -> None:
    """After a retry: update the alert in place (a job, like every Slack call)."""
    await enqueue(
        session,
        kind=JobKind.SLACK_DEAD_JOB_CARD,
        payload={"alert_id": alert_id, "retried_by": retried_by},
        serial_key=f"card:{CARD_KIND}:{alert_id}",
    )


def dead_job_alert_handlers(
    *, db: Database, client: AsyncWebClient, channel: str
) -> dict[JobKind, JobHandler]:
    """Job handlers: post the alert of a death; update it after a retry."""

    async def post(job: ClaimedJob) -> None:
        alert_id, dead_id = job.id, int(job.payload["job_id"])
        async with db.sessions() as session:
            if await _message_of(session, alert_id) is not None:
                return  # posted by an earlier run of this job
            view = await dead_job_view(session, dead_id)
        if view is None:
            return
        message = dead_job_card(view, alert_id=alert_id)
        response = await _call(
            client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
        )
        async with db.transaction() as session:
            session.add(
                SlackMessage(
                    card_kind=CARD_KIND,
                    subject_id=alert_id,
                    channel=response.get("channel") or channel,
                    ts=response["ts"],
                )
            )

    async def update(job: ClaimedJob) -> None:
        alert_id = int(job.payload["alert_id"])
        async with db.sessions() as session:
            posted = await _message_of(session, alert_id)
            alert = await session.get(Job, alert_id)
            dead_id = int(alert.payload["job_id"]) if alert is not None else None
            view = await dead_job_view(session, dead_id) if dead_id is not None else None
        if posted is None or not posted.ts or view is None:
            return
        message = dead_job_card(view, alert_id=alert_id, retried_by=job.payload["retried_by"])
        await _call(
            client.chat_update(
                channel=posted.channel, ts=posted.ts, text=message.text, blocks=message.blocks
            )
        )

    return {JobKind.JOB_DIED: post, JobKind.SLACK_DEAD_JOB_CARD: update}


async def _message_of(session: AsyncSession, alert_id: int) -> SlackMessage | None:
    return await session.scalar(
        select(SlackMessage).where(
            SlackMessage.card_kind == CARD_KIND, SlackMessage.subject_id == alert_id
        )
    )


async def _call(pending: Awaitable[Any]) -> Any:
    """A Slack call; a 429 runs the job again after Retry-After instead of failing it."""
    try:
        return await pending
    except SlackApiError as error:
        if error.response.status_code == 429:
            delay = float(error.response.headers.get("Retry-After", "1") or 1)
            raise RetryLater(delay, "Slack rate limit (429)") from None
        raise
