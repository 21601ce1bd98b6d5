"""/dunning: carry out a parsed command on the database; a typed result says what next.

Everything that only needs our database happens in the request and is the ack's text
(`Reply`). A customer we have never seen needs a Stripe look-up (`NeedsLookup`): that
becomes a job that runs the same command again with the customer it found.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.slack.actors import slack_actor
from bot.slack.blocks.wording import who
from bot.slack.command_parser import (
    HELP_TEXT,
    Command,
    Help,
    ListCases,
    Pause,
    Ref,
    RefKind,
    Resume,
    Status,
)
from bot.slack.mrkdwn import code, escape_inline
from recovery.money import format_amount
from recovery.pauses import active_pause, pause_customer, resume_customer
from storage.models import OPEN_CASE_STATUSES, Case, CustomerRow

LIST_MAX = 30


@dataclass(frozen=True)
class Reply:
    """The ephemeral answer, Slack mrkdwn with every stored field escaped."""

    text: str


@dataclass(frozen=True)
class NeedsLookup:
    """The command names a customer we do not know yet: ask Stripe, then run it again."""

    command: Pause | Resume | Status
    ref: Ref


CommandResult = Reply | NeedsLookup


async def local_customer_id(session: AsyncSession, ref: Ref) -> str | None:
    """Resolve a customer reference from what we already know (None: ask Stripe)."""
    if ref.kind is RefKind.CUSTOMER_ID:
        known = await session.get(CustomerRow, ref.value) or await session.scalar(
            select(Case.id).where(Case.customer_id == ref.value).limit(1)
        )
        return ref.value if known is not None else None
    if ref.kind is RefKind.EMAIL:
        row = await session.scalar(
            select(CustomerRow).where(CustomerRow.email == ref.value).limit(1)
        )
        if row is not None:
            return row.id
        case = await session.scalar(select(Case).where(Case.customer_email == ref.value).limit(1))
        return case.customer_id if case else None
    return None


def _case_line(case: Case) -> str:
    customer = escape_inline(case.customer_name or case.customer_email or case.customer_id)
    amount = format_amount(case.amount_remaining or case.amount_due, case.currency)
    return (
        f"• {code(case.invoice_number or case.invoice_id)} {customer}: "
        f"{escape_inline(amount)}, {case.segment}, {case.status}, "
        f"attempt {case.attempt_count}, opened {case.created_at:%Y-%m-%d}"
    )


def _paused_by(actor: str) -> str:
    """`slack:U…` as a mention; any other actor (CLI, system) as escaped text."""
    return who(actor.removeprefix("slack:"))


async def _status(session: AsyncSession, target: Ref, customer_id: str | None) -> str:
    if target.kind is RefKind.INVOICE_ID:
        case = await session.scalar(select(Case).where(Case.invoice_id == target.value))
        if case is None:
            return f"No dunning case for invoice {code(target.value)}."
        return _case_line(case)
    assert customer_id is not None
    pause = await active_pause(session, customer_id)
    cases = (
        await session.scalars(
            select(Case).where(Case.customer_id == customer_id).order_by(Case.created_at)
        )
    ).all()
    state = "dunning active"
    if pause is not None:
        until = f"until {pause.until:%Y-%m-%d %H:%M} UTC" if pause.until else "until resumed"
        reason = f" ({escape_inline(pause.reason)})" if pause.reason else ""
        state = f"dunning paused by {_paused_by(pause.paused_by)} {until}{reason}"
    lines = [f"*{escape_inline(customer_id)}*: {state}"]
    lines += [_case_line(case) for case in cases] or ["No dunning cases."]
    return "\n".join(lines)


async def _list(session: AsyncSession) -> str:
    cases = (
        await session.scalars(
            select(Case)
            .where(Case.status.in_(OPEN_CASE_STATUSES))
            .order_by(Case.created_at)
            .limit(LIST_MAX)
        )
    ).all()
    if not cases:
        return "No open dunning cases."
    return "*Open cases, oldest first*\n" + "\n".join(_case_line(c) for c in cases)


async def run_command(
    session: AsyncSession,
    *,
    command: Command,
    user: str,
    customer_id: str | None = None,
) -> CommandResult:
    """Carry out a parsed /dunning command; `customer_id` is the customer Stripe found."""
    if isinstance(command, Help):
        return Reply(HELP_TEXT)
    if isinstance(command, ListCases):
        return Reply(await _list(session))
    ref = command.target if isinstance(command, Status) else command.customer
    if ref.kind is not RefKind.INVOICE_ID:
        customer_id = customer_id or await local_customer_id(session, ref)
        if customer_id is None:
            return NeedsLookup(command=command, ref=ref)
    if isinstance(command, Status):
        return Reply(await _status(session, command.target, customer_id))
    assert customer_id is not None
    if isinstance(command, Pause):
        state = await pause_customer(
            session,
            customer_id=customer_id,
            until=command.until,
            reason=command.reason,
            by=slack_actor(user),
        )
        until = f"until {state.until:%Y-%m-%d %H:%M} UTC" if state.until else "until resumed"
        return Reply(
            f"Dunning paused for {code(customer_id)} {until}. New failures are recorded; "
            "nothing is drafted, posted or sent."
        )
    count = await resume_customer(session, customer_id=customer_id, by=slack_actor(user))
    if count is None:
        return Reply(f"{code(customer_id)} was not paused; nothing changed.")
    return Reply(
        f"Dunning resumed for {code(customer_id)}; {count} open case(s) are being re-checked."
    )
