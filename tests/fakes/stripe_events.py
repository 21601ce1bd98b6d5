"""Stripe webhook events for tests: the fixture envelope around an invoice, signed as Stripe does.

invoice = stripe_api.add_invoice(customer=cus["id"], attempt_count=1)
payload = json.dumps(build_event("invoice.payment_failed", invoice)).encode()
headers = {"Stripe-Signature": sign_payload(payload, secret)}
await store_events(db, build_event("invoice.paid", invoice))  # stored as a delivery is
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from recovery.ingest import ingest_item
from storage.batch_ingest import BatchIngestWriter
from storage.db import Database
from tests.fakes.stripe_server import load_fixture

_ENVELOPE_FIXTURE = "event_invoice.payment_failed"


def build_event(
    type: str,
    invoice: dict[str, Any],
    event_id: str | None = None,
    created: int | None = None,
) -> dict[str, Any]:
    """An event of `type` with `invoice` as `data.object`, in the fixture's envelope.

    A fresh `evt_…` id and the current time unless given (a fixed id replays a duplicate).
    """
    event = load_fixture(_ENVELOPE_FIXTURE)
    event["id"] = event_id or f"evt_{secrets.token_hex(12)}"
    event["type"] = type
    event["created"] = created if created is not None else int(time.time())
    event["data"] = {"object": copy.deepcopy(invoice)}
    return event


def sign_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header for `payload`: `t=<ts>,v1=<hex HMAC-SHA256>`.

    The signed message is `f"{t}.{payload}"` keyed with the endpoint secret (`whsec_…`),
    exactly what `stripe.Webhook.construct_event` verifies.
    """
    signed_at = int(time.time()) if timestamp is None else timestamp
    message = f"{signed_at}.".encode() + payload
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"t={signed_at},v1={digest}"


async def store_events(db: Database, *events: dict[str, Any]) -> list[bool]:
    """Store verified events through the webhook's own write path; per event, whether new."""
    writer = BatchIngestWriter(db)
    try:
        return [
            await writer.submit(ingest_item(event, payload_json=json.dumps(event)))
            for event in events
        ]
    finally:
        await writer.close()
