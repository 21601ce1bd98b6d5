"""Slack-side jobs: ephemeral replies, the App Home, and /dunning look-ups that need Stripe."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from bot.slack.command_parser import Exclude, Include, Pause, Resume, Status
from recovery.jobkinds import JobKind, priority_of
from recovery.playbooks.rules import Playbook
from recovery.protocols import BillingReader
from storage.db import Database
from storage.queue import enqueue
from storage.worker import JobHandler

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.slack.notifier import SlackNotifier

LookupCommand = Pause | Resume | Status | Exclude | Include
"""The /dunning commands that name a customer, and so may need a Stripe look-up."""
_COMMANDS: dict[str, type[LookupCommand]] = {
    "pause": Pause,
    "resume": Resume,
    "status": Status,
    "exclude": Exclude,
    "include": Include,
}


def dump_command(command: LookupCommand) -> dict[str, Any]:
    """The parsed command as JSON for a job payload (the text is parsed once, in the request)."""
    verb = next(verb for verb, kind in _COMMANDS.items() if isinstance(command, kind))
    args = TypeAdapter(type(command)).dump_python(command, mode="json")
    return {"verb": verb, "args": args}


def load_command(data: dict[str, Any]) -> LookupCommand:
    """The command a job payload carries (validated, not parsed from text again)."""
    kind = _COMMANDS[data["verb"]]
    return TypeAdapter(kind).validate_python(data["args"])


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
        priority=priority_of(JobKind.SLACK_EPHEMERAL),
    )


async def enqueue_home(session: AsyncSession, *, user: str) -> None:
    """Publish one person's App Home, as a durable job."""
    await enqueue(
        session,
        kind=JobKind.SLACK_PUBLISH_HOME,
        payload={"user": user},
        serial_key=f"home:{user}",
        priority=priority_of(JobKind.SLACK_PUBLISH_HOME),
    )


async def enqueue_command(
    session: AsyncSession, *, command: LookupCommand, user: str, channel: str | None
) -> None:
    """Finish a /dunning command after looking its customer up in Stripe, as a durable job."""
    await enqueue(
        session,
        kind=JobKind.SLACK_COMMAND,
        payload={"command": dump_command(command), "user": user, "channel": channel},
        serial_key=f"command:{user}",
        priority=priority_of(JobKind.SLACK_COMMAND),
    )


def slack_job_handlers(
    *,
    db: Database,
    notifier: SlackNotifier,
    client: AsyncWebClient,
    billing: BillingReader,
    finance_approvers: frozenset[str],
    account_managers: frozenset[str],
    playbook: Playbook | None = None,
) -> dict[JobKind, JobHandler]:
    """Handlers for the Slack-side jobs, for storage.worker.Worker."""
    from bot.slack.blocks.home import home_tab
    from bot.slack.cards import home_view
    from bot.slack.command_parser import Ref, RefKind
    from bot.slack.commands import Reply, run_command
    from bot.slack.mrkdwn import code
    from recovery.cases import upsert_customer
    from recovery.protocols import NotFoundError
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
            tab = home_tab(view)
            if playbook is not None and playbook.rules:
                from bot.playbooks.home import home_blocks
                from bot.playbooks.summary import rule_lines

                lines = await rule_lines(session, playbook)
                extra = home_blocks(lines, can_toggle=user in finance_approvers)
                tab["blocks"] = (tab["blocks"] + extra)[:100]
        await notifier._call(client.views_publish(user_id=user, view=tab))

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
        parsed = load_command(p["command"])
        ref = parsed.target if isinstance(parsed, Status) else parsed.customer
        found = await _look_up(ref)
        async with db.transaction() as session:
            if found is None:
                answer = f"No customer with {code(ref.value)} in Stripe."
            else:
                await upsert_customer(session, found)
                result = await run_command(
                    session, command=parsed, user=p["user"], customer_id=found.id
                )
                answer = (
                    result.text
                    if isinstance(result, Reply)
                    else "That customer could not be found."
                )
        if p.get("channel"):
            await notifier.post_ephemeral(channel=p["channel"], user=p["user"], text=answer)

    return {
        JobKind.SLACK_EPHEMERAL: ephemeral,
        JobKind.SLACK_PUBLISH_HOME: publish_home,
        JobKind.SLACK_COMMAND: command,
    }
