"""A customer's facts in /dunning replies: escaped lines from the stored profile."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.slack.actors import slack_actor
from bot.slack.command_parser import Exclude, Include
from bot.slack.mrkdwn import code, escape_inline, user_mention
from recovery.customers.profiles import profile_of
from recovery.customers.rules import owners_of
from recovery.customers.show import profile_lines
from recovery.pauses import exclude_customer, include_customer
from storage.models import OPEN_CASE_STATUSES, Case, CustomerOwner, CustomerProfile, utcnow

MINE_MAX = 30
EXCLUDED_MARK = " — *excluded from dunning*"


async def excluded_ids(session: AsyncSession, customer_ids: set[str]) -> set[str]:
    """Which of these customers are excluded from dunning."""
    if not customer_ids:
        return set()
    rows = await session.scalars(
        select(CustomerProfile.customer_id).where(
            CustomerProfile.customer_id.in_(customer_ids), CustomerProfile.excluded.is_(True)
        )
    )
    return set(rows.all())


async def facts_lines(session: AsyncSession, customer_id: str) -> list[str]:
    """`Label: value` lines (values escaped; the owner as a mention), none when unknown."""
    profile = await profile_of(session, customer_id)
    if profile is None:
        return []
    owners = await owners_of(session, customer_id)
    lines = []
    for label, value in profile_lines(profile, owners=owners, now=utcnow()):
        shown = escape_inline(value)
        if label == "Owner" and owners:
            shown = ", ".join(user_mention(o) for o in owners)
        lines.append(f"{escape_inline(label)}: {shown}")
    return lines


async def exclusion_reply(
    session: AsyncSession, command: Exclude | Include, *, customer_id: str, user: str
) -> str:
    """Exclude or include a customer; the reply says what changed."""
    if isinstance(command, Exclude):
        done = await exclude_customer(
            session, customer_id=customer_id, reason=command.reason, by=slack_actor(user)
        )
        if not done:
            return f"{code(customer_id)} was already excluded from dunning; nothing changed."
        return (
            f"{code(customer_id)} is excluded from dunning: new failures are recorded, nothing "
            f"is drafted, posted or sent. `/dunning include {customer_id}` undoes it."
        )
    count = await include_customer(session, customer_id=customer_id, by=slack_actor(user))
    if count is None:
        return f"{code(customer_id)} was not excluded; nothing changed."
    return (
        f"{code(customer_id)} is included in dunning again; {count} open case(s) are being "
        "re-checked. Rules will not exclude it again."
    )


async def mine_text(session: AsyncSession, *, user: str, case_line: Callable[[Case], str]) -> str:
    """Open cases of the customers `user` owns, oldest first."""
    owned = select(CustomerOwner.customer_id).where(CustomerOwner.slack_user_id == user)
    cases = (
        await session.scalars(
            select(Case)
            .where(Case.customer_id.in_(owned), Case.status.in_(OPEN_CASE_STATUSES))
            .order_by(Case.created_at)
            .limit(MINE_MAX)
        )
    ).all()
    if not cases:
        count = len((await session.scalars(owned)).all())
        if count == 0:
            return "You own no customers (customer rules assign owners: see docs/playbooks.md)."
        return f"No open cases among the {count} customer(s) you own."
    excluded = await excluded_ids(session, {c.customer_id for c in cases})
    lines = [case_line(c) + (EXCLUDED_MARK if c.customer_id in excluded else "") for c in cases]
    return "*Open cases of your customers, oldest first*\n" + "\n".join(lines)
