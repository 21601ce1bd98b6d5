"""A verified Stripe event as what is stored: the event and the job that processes it.

Stored by `storage.batch_ingest.BatchIngestWriter`, the one write path of events and jobs.
"""

from __future__ import annotations

from typing import Any

from recovery.jobkinds import JobKind, customer_serial_key, invoice_serial_key
from storage.batch_ingest import IngestItem


def serial_key_for(event: dict[str, Any]) -> str | None:
    """Jobs of the same invoice (or customer) never run at the same time."""
    obj = event["data"]["object"]
    if obj.get("object") == "invoice" and obj.get("id"):
        return invoice_serial_key(obj["id"])
    if obj.get("object") == "customer" and obj.get("id"):
        return customer_serial_key(obj["id"])
    return None


def ingest_item(event: dict[str, Any], payload_json: str | None = None) -> IngestItem:
    """What a verified event becomes: its row and the job that processes it.

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
