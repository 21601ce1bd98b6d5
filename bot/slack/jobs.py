"""Slack-side jobs: ephemeral replies, the App Home, and /dunning look-ups that need Stripe."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from recovery.jobkinds import JobKind
from storage.queue import enqueue


async def enqueue_ephemeral(
    session: AsyncSession, *, channel: str | None, user: str, text: str
) -> None:
    """Tell one person the outcome of their click, as a durable job."""
    if not channel:
        return
    await enqueue(
        session,
        kind=JobKind.SLACK_EPHEMERAL,
        payload={"channel": channel, "user": user, "text": text},
        serial_key=f"ephemeral:{user}",
    )


async def enqueue_home(session: AsyncSession, *, user: str) -> None:
    await enqueue(
        session, kind=JobKind.SLACK_PUBLISH_HOME, payload={"user": user}, serial_key=f"home:{user}"
    )


async def enqueue_command(session: AsyncSession, payload: dict[str, Any]) -> None:
    await enqueue(
        session,
        kind=JobKind.SLACK_COMMAND,
        payload=payload,
        serial_key=f"command:{payload.get('user')}",
    )


def slack_job_handlers(
    *,
    db: Any,
    notifier: Any,
    client: Any,
    billing: Any,
    finance_approvers: frozenset[str],
    account_managers: frozenset[str],
) -> dict[str, Any]:
    """Handlers for the Slack-side jobs, for storage.worker.Worker."""
    from bot.slack.blocks import home_tab
    from bot.slack.cards import home_view
    from bot.slack.command_parser import (
        CommandError,
        Pause,
        Ref,
        RefKind,
        Resume,
        Status,
        parse_command,
    )
    from bot.slack.commands import NEEDS_LOOKUP, run_command
    from recovery.cases import upsert_customer
    from recovery.protocols import NotFoundError
    from storage.models import utcnow
    from storage.queue import ClaimedJob

    async def ephemeral(job: ClaimedJob) -> None:
        p = job.payload
        await notifier.post_ephemeral(channel=p["channel"], user=p["user"], text=p["text"])

    async def publish_home(job: ClaimedJob) -> None:
        user = job.payload["user"]
        async with db.sessions() as session:
            view = await home_view(
                session,
                user_id=user,
                can_approve=user in finance_approvers,
                can_claim=user in account_managers,
            )
        await notifier._call(client.views_publish(user_id=user, view=home_tab(view)))

    async def _look_up(ref: Ref) -> Any:
        """The customer in Stripe by id or email; None when Stripe has no such customer."""
        if ref.kind is RefKind.EMAIL:
            return await billing.find_customer_by_email(ref.value)
        try:
            customer = await billing.get_customer(ref.value)
        except NotFoundError:
            return None
        return None if customer.deleted else customer

    async def command(job: ClaimedJob) -> None:
        p = job.payload
        try:
            parsed = parse_command(p["text"], now=utcnow())
        except CommandError as error:
            answer = str(error)
        else:
            ref = (
                parsed.target
                if isinstance(parsed, Status)
                else (parsed.customer if isinstance(parsed, Pause | Resume) else None)
            )
            found = await _look_up(ref) if ref else None
            async with db.transaction() as session:
                if found is None:
                    answer = f"No customer with `{ref.value if ref else ''}` in Stripe."
                else:
                    await upsert_customer(session, found)
                    answer = await run_command(
                        session,
                        text=p["text"],
                        user=p["user"],
                        resolved_customer=lambda _ref: found.id,
                    )
                    if answer == NEEDS_LOOKUP:
                        answer = "That customer could not be found."
        await notifier.post_ephemeral(channel=p["channel"], user=p["user"], text=answer)

    return {
        JobKind.SLACK_EPHEMERAL: ephemeral,
        JobKind.SLACK_PUBLISH_HOME: publish_home,
        JobKind.SLACK_COMMAND: command,
    }
