"""The alert of a dead job: what died and why, in plain words, and a Retry button."""

from __future__ import annotations

from bot.dead_jobs import DeadJobView
from bot.slack.blocks.kit import Message, actions, button, context, section
from bot.slack.blocks.wording import fallback
from bot.slack.ids import DeadJobAction
from bot.slack.metadata import CardKind, CardRef
from bot.slack.mrkdwn import code, escape_inline, escape_truncated, user_mention


def dead_job_card(view: DeadJobView, *, alert_id: int, retried_by: str | None = None) -> Message:
    """One death of a job (`alert_id`: its job_died job); the button goes once retried."""
    headline = (
        f":rotating_light: A job failed for good and needs a person: {escape_inline(view.subject)}"
    )
    why = escape_truncated(view.reason, 500)
    blocks = [
        section(f"{headline}\n*Why:* {why}."),
        context(
            f"Job #{view.job_id} ({code(view.kind)}), tried {view.attempts} of "
            f"{view.max_attempts} times. Error: {escape_truncated(view.error, 600, inline=True)}"
        ),
    ]
    if retried_by is not None:
        blocks.append(section(f"Retried by {user_mention(retried_by)}: it runs again now."))
    else:
        ref = CardRef(kind=CardKind.DEAD_JOB, id=alert_id, version=0).dump()
        retry = button("Retry", DeadJobAction.RETRY, ref, style="primary")
        blocks.append(actions("dead_job_actions", retry))
        blocks.append(context("Finance approvers can retry once the cause is fixed."))
    return Message(fallback(f"{headline}. Why: {why}."), blocks)
