"""A case's place in its dunning plan, one mrkdwn line: its Slack card and `/dunning status`."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.slack.mrkdwn import escape_inline, user_mention
from recovery.plans.model import DunningPlan
from recovery.plans.progress import case_plan_progress, progress_line


async def case_plan_line(
    session: AsyncSession, *, case_id: int, plans: Callable[[str], DunningPlan | None]
) -> str | None:
    """ "Plan annual: retry 2 of 8, next on …; closing out on …", or None off a retrying plan."""
    progress = await case_plan_progress(session, case_id=case_id, plan=plans)
    if progress is None:
        return None
    return progress_line(progress, escape=escape_inline, mention=user_mention)
