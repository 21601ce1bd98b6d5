"""/dunning: parse, authorise, act on the database, reply ephemerally.

Everything that only needs our database happens in the request and is the ack's text. An
email we have never seen needs a Stripe look-up: that becomes a job that replies later.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.slack.command_parser import (
    HELP_TEXT,
    CommandError,
    Help,
    ListCases,
    Pause,
    Ref,
    RefKind,
    Resume,
    Status,
    parse_command,
)
from bot.slack.mrkdwn import escape_inline
from recovery.money import format_amount
from recovery.pauses import active_pause, pause_customer, resume_customer
from storage.models import OPEN_CASE_STATUSES, Case, CustomerRow, utcnow

NEEDS_LOOKUP = "needs_lookup"


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
    who = escape_inline(case.customer_name or case.customer_email or case.customer_id)
    amount = format_amount(case.amount_remaining or case.amount_due, case.currency)
    return (
        f"• `{case.invoice_number or case.invoice_id}` {who}: {amount}, {case.segment}, "
        f"{case.status}, attempt {case.attempt_count}, opened {case.created_at:%Y-%m-%d}"
    )


async def _status(session: AsyncSession, target: Ref, customer_id: str | None) -> str:
    if target.kind is RefKind.INVOICE_ID:
        case = await session.scalar(select(Case).where(Case.invoice_id == target.value))
        if case is None:
            return f"No dunning case for invoice `{target.value}`."
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
        who = pause.paused_by
        who = f"<@{who.removeprefix('slack:')}>" if who.startswith("slack:") else who
        until = f"until {pause.until:%Y-%m-%d %H:%M} UTC" if pause.until else "until resumed"
        reason = f" ({escape_inline(pause.reason)})" if pause.reason else ""
        state = f"dunning paused by {who} {until}{reason}"
    lines = [f"*{customer_id}*: {state}"]
    lines += [_case_line(case) for case in cases] or ["No dunning cases."]
    return "\n".join(lines)


async def _list(session: AsyncSession) -> str:
    cases = (
        await session.scalars(
            select(Case)
            .where(Case.status.in_(OPEN_CASE_STATUSES))
            .order_by(Case.created_at)
            .limit(30)
        )
    ).all()
    if not cases:
        return "No open dunning cases."
    return "*Open cases, oldest first*\n" + "\n".join(_case_line(c) for c in cases)


async def run_command(
    session: AsyncSession,
    *,
    text: str,
    user: str,
    now: datetime | None = None,
    resolved_customer: Callable[[Ref], str | None] | None = None,
) -> str:
    """Carry out a /dunning command; returns the ephemeral reply, or NEEDS_LOOKUP."""
    try:
        command = parse_command(text, now=now or utcnow())
    except CommandError as error:
        return str(error)
    if isinstance(command, Help):
        return HELP_TEXT
    if isinstance(command, ListCases):
        return await _list(session)
    ref = command.target if isinstance(command, Status) else command.customer
    customer_id = None
    if ref.kind is not RefKind.INVOICE_ID:
        customer_id = (
            resolved_customer(ref) if resolved_customer else None
        ) or await local_customer_id(session, ref)
        if customer_id is None:
            return NEEDS_LOOKUP
    if isinstance(command, Status):
        return await _status(session, command.target, customer_id)
    assert customer_id is not None
    if isinstance(command, Pause):
        state = await pause_customer(
            session,
            customer_id=customer_id,
            until=command.until,
            reason=command.reason,
            by=f"slack:{user}",
        )
        until = f"until {state.until:%Y-%m-%d %H:%M} UTC" if state.until else "until resumed"
        return (
            f"Dunning paused for `{customer_id}` {until}. New failures are recorded; "
            "nothing is drafted, posted or sent."
        )
    if isinstance(command, Resume):
        count = await resume_customer(session, customer_id=customer_id, by=f"slack:{user}")
        if count is None:
            return f"`{customer_id}` was not paused; nothing changed."
        return f"Dunning resumed for `{customer_id}`; {count} open case(s) are being re-checked."
    return HELP_TEXT
