"""Call rates shared by every process through the database (a sliding window of calls).

`admit` lets one call through when fewer than `limit` calls were admitted in the last
`window_s` seconds and no provider asked everyone to wait; otherwise it says how long to wait.
`hold` records a provider's "not before" time (a 429's Retry-After) for every process.
`take_slot` paces calls (one per interval, e.g. Slack's posts to one channel): it hands out
the next free slot, and can keep it for a job that comes back later.
The limit's row is locked while deciding (PostgreSQL: SELECT … FOR UPDATE; SQLite: the write
transaction is exclusive), so two workers never both take the last call of a window.
Times come from the caller, so tests drive them with a controllable clock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import RateLimitCall, RateLimitRow

DEFAULT_WINDOW_S = 60.0
RESERVATION_HORIZON_S = 600.0
"""A reserved slot this far in the past belongs to a job that never came back: dropped."""

WaitReason = Literal["", "budget", "provider"]


@dataclass(frozen=True, slots=True)
class Admission:
    """Whether a call may go now; if not, how long to wait and why."""

    admitted: bool
    wait_s: float = 0.0
    reason: WaitReason = ""


ADMITTED = Admission(admitted=True)


def _provider_wait(not_before: datetime | None, now: datetime) -> Admission | None:
    if not_before is not None and not_before > now:
        return Admission(False, (not_before - now).total_seconds(), "provider")
    return None


async def _locked_row(session: AsyncSession, *, name: str, is_sqlite: bool) -> RateLimitRow:
    """The limit's row, created on first use and locked for this transaction."""
    insert = sqlite.insert if is_sqlite else postgresql.insert
    await session.execute(insert(RateLimitRow).values(name=name).on_conflict_do_nothing())
    query = select(RateLimitRow).where(RateLimitRow.name == name)
    if not is_sqlite:
        query = query.with_for_update()
    row: RateLimitRow = (await session.scalars(query)).one()
    return row


async def admit(
    db: Database, *, name: str, limit: int, now: datetime, window_s: float = DEFAULT_WINDOW_S
) -> Admission:
    """Admit one call under `name` (recorded at `now`), or say how long to wait.

    `limit` ≤ 0 means no budget: only a provider's hold applies (a read, nothing written)."""
    if limit <= 0:
        async with db.sessions() as session:
            not_before = await session.scalar(
                select(RateLimitRow.not_before).where(RateLimitRow.name == name)
            )
        return _provider_wait(not_before, now) or ADMITTED
    since = now - timedelta(seconds=window_s)
    async with db.transaction() as session:
        row = await _locked_row(session, name=name, is_sqlite=db.is_sqlite)
        if (held := _provider_wait(row.not_before, now)) is not None:
            return held
        await session.execute(
            delete(RateLimitCall).where(RateLimitCall.name == name, RateLimitCall.at <= since)
        )
        count, oldest = (
            await session.execute(
                select(func.count(RateLimitCall.id), func.min(RateLimitCall.at)).where(
                    RateLimitCall.name == name, RateLimitCall.at > since
                )
            )
        ).one()
        if count >= limit and oldest is not None:
            free_at = oldest + timedelta(seconds=window_s)
            return Admission(False, max((free_at - now).total_seconds(), 0.0), "budget")
        session.add(RateLimitCall(name=name, at=now))
    return ADMITTED


async def hold(db: Database, *, name: str, until: datetime) -> None:
    """No call under `name` before `until`, in any process (a later hold wins)."""
    async with db.transaction() as session:
        await _locked_row(session, name=name, is_sqlite=db.is_sqlite)
        await session.execute(
            update(RateLimitRow)
            .where(
                RateLimitRow.name == name,
                or_(RateLimitRow.not_before.is_(None), RateLimitRow.not_before < until),
            )
            .values(not_before=until)
        )


def _reservation_name(name: str, key: str) -> str:
    """The rate_limit_calls name holding `key`'s reserved slot under `name` (≤ 64 chars)."""
    full = f"{name}#{key}"
    if len(full) <= 64:
        return full
    return f"{name}#{hashlib.sha256(key.encode()).hexdigest()[:16]}"[:64]


async def take_slot(
    db: Database,
    *,
    name: str,
    interval_s: float,
    now: datetime,
    key: str | None = None,
    reserve_beyond_s: float = 0.0,
) -> datetime:
    """Take the next free slot of a pace (one call per `interval_s` under `name`), for every
    process: the time this call may go, `now` when it is free.

    With `key`, a slot more than `reserve_beyond_s` away is kept for that key (its job comes
    back later, in any process) and a later call with the same key gets that slot, not a new
    one. The pace's `not_before` is the next free slot (a `hold` pushes it back too)."""
    async with db.transaction() as session:
        row = await _locked_row(session, name=name, is_sqlite=db.is_sqlite)
        if key is not None:
            reserved_name = _reservation_name(name, key)
            reserved = await session.scalar(
                select(func.min(RateLimitCall.at)).where(RateLimitCall.name == reserved_name)
            )
            if reserved is not None:
                if (reserved - now).total_seconds() <= reserve_beyond_s:  # else: still kept
                    await session.execute(
                        delete(RateLimitCall).where(RateLimitCall.name == reserved_name)
                    )
                return reserved
        slot = max(now, row.not_before) if row.not_before is not None else now
        row.not_before = slot + timedelta(seconds=interval_s)
        if key is not None and (slot - now).total_seconds() > reserve_beyond_s:
            await session.execute(
                delete(RateLimitCall).where(
                    RateLimitCall.name.startswith(f"{name}#", autoescape=True),
                    RateLimitCall.at < now - timedelta(seconds=RESERVATION_HORIZON_S),
                )
            )
            session.add(RateLimitCall(name=reserved_name, at=slot))
    return slot
