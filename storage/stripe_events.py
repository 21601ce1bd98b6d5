"""Stripe events as received: stored once per event id (written by `storage.batch_ingest`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import StripeEventRow, utcnow


def event_row(
    *,
    event_id: str,
    event_type: str,
    object_id: str | None,
    stripe_created: int,
    payload: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The column values of a newly received event."""
    return {
        "id": event_id,
        "type": event_type,
        "object_id": object_id,
        "stripe_created": stripe_created,
        "payload": payload,
        "received_at": now,
    }


async def mark_processed(session: AsyncSession, *, event_id: str, result: str) -> None:
    """Record what handling the event did (e.g. 'case_opened', 'ignored_stale')."""
    await session.execute(
        update(StripeEventRow)
        .where(StripeEventRow.id == event_id)
        .values(result=result, processed_at=utcnow())
    )
