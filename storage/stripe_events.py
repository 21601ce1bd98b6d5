"""Stripe events as received: stored once per event id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import StripeEventRow, utcnow


async def store_event(
    session: AsyncSession,
    *,
    event_id: str,
    event_type: str,
    object_id: str | None,
    stripe_created: int,
    payload: dict[str, Any],
) -> bool:
    """Insert the event unless its id is known. True when it is new."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(StripeEventRow)
        .values(
            id=event_id,
            type=event_type,
            object_id=object_id,
            stripe_created=stripe_created,
            payload=payload,
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(StripeEventRow.id)
    )
    return await session.scalar(statement) is not None


async def mark_processed(session: AsyncSession, *, event_id: str, result: str) -> None:
    """Record what handling the event did (e.g. 'case_opened', 'ignored_stale')."""
    await session.execute(
        update(StripeEventRow)
        .where(StripeEventRow.id == event_id)
        .values(result=result, processed_at=utcnow())
    )
