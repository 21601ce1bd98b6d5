"""A verified Stripe event as what is stored: the event and the job that processes it.

Stored by `storage.batch_ingest.BatchIngestWriter`, the one write path of events and jobs.
What is stored is checked here first, so that an event the database cannot hold is refused
on its own (400) and never joins, and fails, a batch of good ones.
"""

from __future__ import annotations

import json
import re
from typing import Any

from recovery.jobkinds import JobKind, customer_serial_key, invoice_serial_key
from storage.batch_ingest import IngestItem
from storage.models import Job, StripeEventRow

MAX_EVENT_BYTES = 1_048_576  # Stripe's events are a few KB; the webhook refuses bigger bodies
LATEST_CREATED = 253_402_300_799  # 9999-12-31T23:59:59Z: any later `created` is not a time
_DEDUPE_PREFIX = "stripe_event:"
_ID_LENGTH = StripeEventRow.id.type.length - len(_DEDUPE_PREFIX)  # the job's key holds it too
_EVENT_ID = re.compile(rf"evt_[A-Za-z0-9_]{{1,{_ID_LENGTH - 4}}}")
_TYPE_LENGTH = StripeEventRow.type.type.length
_OBJECT_ID_LENGTH = Job.serial_key.type.length - len("customer:")


class UnstorableEvent(ValueError):
    """A verified event that cannot be stored as given (answered 400, never batched)."""


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

    `payload_json`: the event's JSON text as delivered, stored instead of serialising `event`.
    Raises `UnstorableEvent` when the event cannot be stored as given.
    """
    text = payload_json if payload_json is not None else _serialise(event)
    _check_storable(event, text)
    return IngestItem(
        event_id=event["id"],
        event_type=event["type"],
        object_id=event["data"]["object"].get("id"),
        stripe_created=event["created"],
        payload=event,
        job_kind=JobKind.PROCESS_STRIPE_EVENT,
        job_payload={"event_id": event["id"]},
        job_dedupe_key=f"{_DEDUPE_PREFIX}{event['id']}",
        job_serial_key=serial_key_for(event),
        payload_json=text,
    )


def _serialise(event: dict[str, Any]) -> str:
    try:
        return json.dumps(event, allow_nan=False)
    except ValueError:
        raise UnstorableEvent("the event holds NaN or Infinity, which JSON cannot store") from None
    except (TypeError, RecursionError):
        raise UnstorableEvent("the event is not plain JSON") from None


def _check_storable(event: dict[str, Any], text: str) -> None:
    """Raise `UnstorableEvent` naming the first field the database could not store."""
    if len(text) > MAX_EVENT_BYTES:
        raise UnstorableEvent(f"the event is larger than {MAX_EVENT_BYTES} bytes")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
        raise UnstorableEvent("id is not a Stripe event id (evt_…)")
    event_type = event.get("type")
    if not isinstance(event_type, str) or not 0 < len(event_type) <= _TYPE_LENGTH:
        raise UnstorableEvent(f"type is not a string of 1 to {_TYPE_LENGTH} characters")
    if "\x00" in event_type:
        raise UnstorableEvent("type holds a NUL character")
    created = event.get("created")
    if type(created) is not int or not 0 <= created <= LATEST_CREATED:
        raise UnstorableEvent("created is not a Unix time (an integer from 0 to year 9999)")
    object_id = event["data"]["object"].get("id")
    if object_id is not None and (
        not isinstance(object_id, str) or len(object_id) > _OBJECT_ID_LENGTH or "\x00" in object_id
    ):
        raise UnstorableEvent(
            f"data.object.id is not a string of at most {_OBJECT_ID_LENGTH} (without NUL)"
        )
    # A NUL elsewhere (a customer's name) is stored as the JSON escape \u0000, which both
    # databases hold; refusing it would lose that customer's events for good.
