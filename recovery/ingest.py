"""Recording a verified Stripe event: the event row and its processing job, one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from recovery.jobkinds import JobKind, customer_serial_key, invoice_serial_key
from storage.batch_ingest import IngestItem
from storage.queue import enqueue
from storage.stripe_events import store_event


def serial_key_for(event: dict[str, Any]) -> str | None:
    """Jobs of the same invoice (or customer) never run at the same time."""
    obj = event["data"]["object"]
    if obj.get("object") == "invoice" and obj.get("id"):
        return invoice_serial_key(obj["id"])
    if obj.get("object") == "customer" and obj.get("id"):
        return customer_serial_key(obj["id"])
    return None


async def record_event(session: AsyncSession, event: dict[str, Any]) -> bool:
    """Store a verified event and queue its processing. False for a duplicate (nothing new)."""
    is_new = await store_event(
        session,
        event_id=event["id"],
        event_type=event["type"],
        object_id=event["data"]["object"].get("id"),
        stripe_created=int(event.get("created") or 0),
        payload=event,
    )
    if is_new:
        await enqueue(
            session,
            kind=JobKind.PROCESS_STRIPE_EVENT,
            payload={"event_id": event["id"]},
            dedupe_key=f"stripe_event:{event['id']}",
            serial_key=serial_key_for(event),
        )
    return is_new


def ingest_item(event: dict[str, Any], payload_json: str | None = None) -> IngestItem:
    """The rows a verified event becomes, for the batched writer (same rows as record_event).

    `payload_json`: the event's JSON text as delivered, stored instead of re-serialising it.
    """
    return IngestItem(
        event_id=event["id"],
        event_type=event["type"],
        object_id=event["data"]["object"].get("id"),
        stripe_created=int(event.get("created") or 0),
        payload=event,
        job_kind=JobKind.PROCESS_STRIPE_EVENT,
        job_payload={"event_id": event["id"]},
        job_dedupe_key=f"stripe_event:{event['id']}",
        job_serial_key=serial_key_for(event),
        payload_json=payload_json,
    )
