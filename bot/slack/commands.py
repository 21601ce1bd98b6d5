"""/dunning: carry out a parsed command on the database; a typed result says what next.

Everything that only needs our database happens in the request and is the ack's text
(`Reply`). A customer we have never seen needs a Stripe look-up (`NeedsLookup`): that
becomes a job that runs the same command again with the customer it found. Every stored
field (names, emails, invoice numbers, reasons) is escaped; customers are named by name
and email where known, numbers written as people write them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.slack.actors import slack_actor
from bot.slack.blocks.wording import counted, customer_label, who
from bot.slack.command_parser import (
    HELP_TEXT,
    Command,
    Exclude,
    Help,
    History,
    Include,
    ListCases,
    ListRules,
    Mine,
    Pause,
    Ref,
    RefKind,
    Resume,
    Status,
)
from bot.slack.customer_facts import (
    EXCLUDED_MARK,
    excluded_ids,
    exclusion_reply,
    facts_lines,
    mine_text,
)
from bot.slack.mrkdwn import code, escape_inline, escape_truncated, utc_text
from bot.slack.plan_line import case_plan_line
from recovery.history import (
    HistoryQuery,
    action_label,
    actor_label,
    actor_parts,
    audit_history,
    detail_text,
)
from recovery.money import format_amount
from recovery.pauses import PauseState, active_pause, pause_customer, resume_customer
from recovery.playbooks.rules import EMPTY_PLAYBOOK, Playbook
from storage.models import OPEN_CASE_STATUSES, Case, CustomerRow, utcnow
from storage.models import Pause as PauseRow

LIST_MAX = 30
HISTORY_MAX = 10
DETAIL_MAX = 120


@dataclass(frozen=True)
class Reply:
    """The ephemeral answer, Slack mrkdwn with every stored field escaped."""

    text: str


@dataclass(frozen=True)
class NeedsLookup:
    """The command names a customer we do not know yet: ask Stripe, then run it again."""

    command: Pause | Resume | Status | Exclude | Include
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


async def customer_words(session: AsyncSession, customer_id: str) -> str:
    """`Ana Smith (ana@example.com) `cus_1``: the name and email we know, then the id."""
    row = await session.get(CustomerRow, customer_id)
    name, email = (row.name, row.email) if row is not None else (None, None)
    if not (name or email):
        case = await session.scalar(
            select(Case)
            .where(Case.customer_id == customer_id)
            .order_by(Case.created_at.desc())
            .limit(1)
        )
        if case is not None:
            name, email = case.customer_name, case.customer_email
    ident = code(customer_id)
    return f"{customer_label(name, email)} {ident}" if (name or email) else ident


def _case_line(case: Case, *, paused: bool = False) -> str:
    customer = escape_inline(case.customer_name or case.customer_email or case.customer_id)
    amount = format_amount(case.amount_remaining or case.amount_due, case.currency)
    line = (
        f"• {code(case.invoice_number or case.invoice_id)} {customer}: "
        f"{escape_inline(amount)}, {case.segment}, {case.status}, "
        f"attempt {case.attempt_count}, opened {case.created_at:%Y-%m-%d}"
    )
    return line + (" — *paused*" if paused else "")


def _actor(actor: str) -> str:
    """Who did it: a Slack user as a mention, anyone else in the audit log's words."""
    kind, ident = actor_parts(actor)
    if kind == "slack" and ident:
        return who(ident)
    return escape_inline(actor_label(actor))


def _until(until: datetime | None) -> str:
    return f"until {until:%Y-%m-%d %H:%M} UTC" if until else "until resumed"


async def _paused_ids(session: AsyncSession, customer_ids: set[str]) -> set[str]:
    """Which of these customers have a pause in force now."""
    if not customer_ids:
        return set()
    now = utcnow()
    rows = await session.scalars(
        select(PauseRow.customer_id).where(
            PauseRow.customer_id.in_(customer_ids),
            or_(PauseRow.until.is_(None), PauseRow.until > now),
        )
    )
    return set(rows.all())


def _dunning_state(pause: PauseState | None) -> str:
    """'dunning active', or who paused or excluded the customer, until when and why."""
    if pause is None:
        return "dunning active"
    reason = f" ({escape_inline(pause.reason)})" if pause.reason else ""
    if pause.excluded:
        return f"excluded from dunning by {_actor(pause.paused_by)}{reason}"
    return f"dunning paused by {_actor(pause.paused_by)} {_until(pause.until)}{reason}"


async def _case_with_plan(
    session: AsyncSession, case: Case, *, paused: bool, playbook: Playbook
) -> str:
    """The case's line, and under it its place in its dunning plan (the card's line)."""
    line = _case_line(case, paused=paused)
    plan = await case_plan_line(session, case_id=case.id, plans=playbook.plan)
    return f"{line}\n    {plan}" if plan else line


async def _status(
    session: AsyncSession, target: Ref, customer_id: str | None, *, playbook: Playbook
) -> str:
    if target.kind is RefKind.INVOICE_ID:
        case = await session.scalar(select(Case).where(Case.invoice_id == target.value))
        if case is None:
            return f"No dunning case for invoice {code(target.value)}."
        pause = await active_pause(session, case.customer_id)
        line = await _case_with_plan(session, case, paused=pause is not None, playbook=playbook)
        if pause is None:
            return line
        # Why its failures are held now (the pause as it stands, not as it was when held).
        return f"{line}\n{await customer_words(session, case.customer_id)}: {_dunning_state(pause)}"
    assert customer_id is not None
    pause = await active_pause(session, customer_id)
    cases = (
        await session.scalars(
            select(Case).where(Case.customer_id == customer_id).order_by(Case.created_at)
        )
    ).all()
    state = _dunning_state(pause)
    lines = [
        f"{await customer_words(session, customer_id)}: {state}",
        *await facts_lines(session, customer_id),
    ]
    lines += [
        await _case_with_plan(session, case, paused=pause is not None, playbook=playbook)
        for case in cases
    ] or ["No dunning cases."]
    return "\n".join(lines)


async def _list(session: AsyncSession) -> str:
    is_open = Case.status.in_(OPEN_CASE_STATUSES)
    total = await session.scalar(select(func.count()).select_from(Case).where(is_open)) or 0
    cases = (
        await session.scalars(select(Case).where(is_open).order_by(Case.created_at).limit(LIST_MAX))
    ).all()
    if not cases:
        return "No open dunning cases."
    paused = await _paused_ids(session, {c.customer_id for c in cases})
    excluded = await excluded_ids(session, {c.customer_id for c in cases})
    shown = "" if total <= len(cases) else f", the oldest {len(cases)} shown"
    head = f"*{counted(total, 'open case').capitalize()}, oldest first{shown}*"
    lines = [
        _case_line(c, paused=c.customer_id in paused)
        + (EXCLUDED_MARK if c.customer_id in excluded else "")
        for c in cases
    ]
    return "\n".join([head, *lines])


async def _history(session: AsyncSession, target: Ref) -> str:
    """The last ten audit entries of a customer or an invoice (the query the dashboard and
    `dunbot audit` use), worded and escaped for mrkdwn."""
    if target.kind is RefKind.INVOICE_ID:
        case = await session.scalar(select(Case).where(Case.invoice_id == target.value))
        if case is None:
            return f"No dunning case for invoice {code(target.value)}."
        about = f"invoice {code(case.invoice_number or case.invoice_id)}"
    else:
        about = await customer_words(session, target.value)
    query = HistoryQuery.for_subject(target.value)
    entries = await audit_history(session, query=query, limit=HISTORY_MAX)
    if not entries:
        return f"Nothing in the audit log for {about} yet."
    lines = [f"*Latest {counted(len(entries), 'entry', 'entries')} for {about}, newest first*"]
    for entry in entries:
        detail = detail_text(entry.detail or {})
        shown = f": {escape_truncated(detail, DETAIL_MAX, inline=True)}" if detail else ""
        lines.append(
            f"• {utc_text(entry.at)} — {escape_inline(action_label(entry.action))} "
            f"by {_actor(entry.actor)}{shown}"
        )
    return "\n".join(lines)


async def run_command(
    session: AsyncSession,
    *,
    command: Command,
    user: str,
    customer_id: str | None = None,
    playbook: Playbook = EMPTY_PLAYBOOK,
) -> CommandResult:
    """Carry out a parsed /dunning command; `customer_id` is the customer Stripe found."""
    if isinstance(command, Help):
        return Reply(HELP_TEXT)
    if isinstance(command, ListCases):
        return Reply(await _list(session))
    if isinstance(command, History):
        return Reply(await _history(session, command.target))
    if isinstance(command, Mine):
        return Reply(await mine_text(session, user=user, case_line=_case_line))
    if isinstance(command, ListRules):
        from bot.playbooks.summary import rules_text

        return Reply(await rules_text(session, playbook))
    ref = command.target if isinstance(command, Status) else command.customer
    if ref.kind is not RefKind.INVOICE_ID:
        customer_id = customer_id or await local_customer_id(session, ref)
        if customer_id is None:
            return NeedsLookup(command=command, ref=ref)
    if isinstance(command, Status):
        return Reply(await _status(session, command.target, customer_id, playbook=playbook))
    assert customer_id is not None
    customer = await customer_words(session, customer_id)
    if isinstance(command, Pause):
        state = await pause_customer(
            session,
            customer_id=customer_id,
            until=command.until,
            reason=command.reason,
            by=slack_actor(user),
        )
        return Reply(
            f"Dunning paused for {customer} {_until(state.until)}. New failures are recorded; "
            "nothing is drafted, posted or sent."
        )
    if isinstance(command, Exclude | Include):
        return Reply(await exclusion_reply(session, command, customer_id=customer_id, user=user))
    count = await resume_customer(session, customer_id=customer_id, by=slack_actor(user))
    if count is None:
        return Reply(f"{customer} was not paused; nothing changed.")
    if count == 0:
        return Reply(f"Dunning resumed for {customer}; no open cases to re-check.")
    verb = "is" if count == 1 else "are"
    return Reply(
        f"Dunning resumed for {customer}; {counted(count, 'open case')} {verb} being re-checked."
    )
