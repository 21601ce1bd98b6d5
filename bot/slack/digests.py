"""The digest of a channel's burst: created exactly once per burst, whatever the concurrency.

A burst starts when more than BURST_THRESHOLD new subjects (drafts, VIP tasks) for a channel
appeared within BURST_WINDOW_S, counted from the database rather than from cards already
posted (so jobs posting at the same moment agree), and lasts while cards keep arriving. The
digest row is claimed (INSERT … ON CONFLICT DO NOTHING on its unique key) before anything is
posted, so of twenty notify jobs racing for it exactly one posts it; the others wait for its
`ts` with RetryLater, which gives their worker slot back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database, rows_affected
from storage.models import SlackMessage, utcnow
from storage.queue import RetryLater

BURST_WINDOW_S = 60
BURST_THRESHOLD = 5
# A claimed digest row whose message never got a ts (its job died mid-post) is taken over.
STALE_CLAIM_S = 30
WAIT_FOR_DIGEST_S = 1.0

# How many subjects for the channel appeared since a time (the burst's size so far).
RecentCount = Callable[[AsyncSession, datetime], Awaitable[int]]


def digest_kind(channel: str) -> str:
    """The SlackMessage.card_kind of a channel's digests (subject_id numbers its bursts)."""
    return f"digest:{channel}"[:30]


@dataclass(frozen=True, slots=True)
class DigestClaim:
    """This job won the right to post burst `number`'s digest."""

    row_id: int
    number: int


async def latest_digest(session: AsyncSession, channel: str) -> SlackMessage | None:
    return await session.scalar(
        select(SlackMessage)
        .where(SlackMessage.card_kind == digest_kind(channel))
        .order_by(SlackMessage.subject_id.desc())
        .limit(1)
    )


async def current_thread(
    db: Database, *, channel: str, recent_count: RecentCount
) -> str | DigestClaim | None:
    """The open burst's digest ts; a claim to post a new digest; or None (no burst)."""
    now = utcnow()
    window_start = now - timedelta(seconds=BURST_WINDOW_S)
    async with db.sessions() as session:
        digest = await latest_digest(session, channel)
        recent = await recent_count(session, window_start)
    if digest is not None and digest.updated_at >= window_start:
        if digest.ts:
            return digest.ts
        if digest.updated_at >= now - timedelta(seconds=STALE_CLAIM_S):
            raise RetryLater(WAIT_FOR_DIGEST_S, "the burst's digest is being posted")
        return await _take_over(db, digest)
    if recent <= BURST_THRESHOLD:
        return None
    number = (digest.subject_id + 1) if digest is not None else 1
    return await _claim(db, channel=channel, number=number)


async def _claim(db: Database, *, channel: str, number: int) -> DigestClaim:
    """Insert the digest row for burst `number`; only one job's insert succeeds."""
    now = utcnow()
    values = {
        "card_kind": digest_kind(channel),
        "subject_id": number,
        "channel": channel,
        "created_at": now,
        "updated_at": now,
    }
    async with db.transaction() as session:
        dialect = session.bind.dialect.name if session.bind else "sqlite"
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        row_id = await session.scalar(
            insert(SlackMessage)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["card_kind", "subject_id"])
            .returning(SlackMessage.id)
        )
    if row_id is None:
        raise RetryLater(WAIT_FOR_DIGEST_S, "another job is posting the burst's digest")
    return DigestClaim(row_id=row_id, number=number)


async def _take_over(db: Database, digest: SlackMessage) -> DigestClaim:
    """Claim a stale digest row (compare-and-set on its updated_at)."""
    async with db.transaction() as session:
        result = await session.execute(
            update(SlackMessage)
            .where(
                SlackMessage.id == digest.id,
                SlackMessage.ts.is_(None),
                SlackMessage.updated_at == digest.updated_at,
            )
            .values(updated_at=utcnow())
        )
    if rows_affected(result) != 1:
        raise RetryLater(WAIT_FOR_DIGEST_S, "another job is posting the burst's digest")
    return DigestClaim(row_id=digest.id, number=digest.subject_id)


async def record_posted(db: Database, *, claim: DigestClaim, channel: str, ts: str) -> None:
    """Store the posted digest's ts: the jobs waiting for it thread their cards under it."""
    async with db.transaction() as session:
        await session.execute(
            update(SlackMessage)
            .where(SlackMessage.id == claim.row_id)
            .values(ts=ts, channel=channel, updated_at=utcnow())
        )


async def mark_active(db: Database, *, digest_id: int) -> None:
    """A card joined the burst: it stays open for another BURST_WINDOW_S."""
    async with db.transaction() as session:
        await session.execute(
            update(SlackMessage).where(SlackMessage.id == digest_id).values(updated_at=utcnow())
        )
