"""POST /stripe/webhook: verify, store the event and its job in one transaction, ack."""

from __future__ import annotations

import json
import logging
from typing import Any

import stripe
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from bot.runtime import Runtime
from storage.queue import enqueue
from storage.stripe_events import store_event

log = logging.getLogger("dunbot.stripe")
router = APIRouter()

PROCESS_EVENT_JOB = "process_stripe_event"


class WebhookRejected(Exception):
    """The request is not a valid, fresh Stripe event."""


def verify_and_parse(
    body: bytes, signature: str | None, secret: str, tolerance_s: int
) -> dict[str, Any]:
    """Stripe's own signature check on the raw body, then a minimal shape check."""
    if not signature:
        raise WebhookRejected("missing Stripe-Signature header")
    try:
        stripe.WebhookSignature.verify_header(
            body.decode("utf-8"), signature, secret, tolerance=tolerance_s
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as error:
        raise WebhookRejected(f"signature verification failed: {error}") from None
    try:
        event = json.loads(body)
    except json.JSONDecodeError:
        raise WebhookRejected("body is not valid JSON") from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        raise WebhookRejected("body is not a Stripe event (no id)")
    data = event.get("data")
    if not isinstance(event.get("type"), str) or not isinstance(data, dict):
        raise WebhookRejected("body is not a Stripe event (no type or data)")
    if not isinstance(data.get("object"), dict):
        raise WebhookRejected("body is not a Stripe event (no data.object)")
    return event


def serial_key_for(event: dict[str, Any]) -> str | None:
    """Jobs of the same invoice (or customer) never run at the same time."""
    obj = event["data"]["object"]
    if obj.get("object") == "invoice" and obj.get("id"):
        return f"invoice:{obj['id']}"
    if obj.get("object") == "customer" and obj.get("id"):
        return f"customer:{obj['id']}"
    return None


@router.post("/stripe/webhook")
async def stripe_webhook(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    secret = runtime.settings.stripe_webhook_secret
    if secret is None:
        return JSONResponse({"error": "STRIPE_WEBHOOK_SECRET is not configured"}, status_code=503)
    body = await request.body()
    try:
        event = verify_and_parse(
            body,
            request.headers.get("stripe-signature"),
            secret.get_secret_value(),
            runtime.settings.stripe_webhook_tolerance_s,
        )
    except WebhookRejected as rejection:
        runtime.metrics.webhook_events.labels(type="unknown", result="rejected").inc()
        log.info("stripe webhook rejected", extra={"reason": str(rejection)})
        return JSONResponse({"error": str(rejection)}, status_code=400)

    async with runtime.db.transaction() as session:
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
                kind=PROCESS_EVENT_JOB,
                payload={"event_id": event["id"]},
                dedupe_key=f"stripe_event:{event['id']}",
                serial_key=serial_key_for(event),
            )
    result = "stored" if is_new else "duplicate"
    runtime.metrics.webhook_events.labels(type=event["type"], result=result).inc()
    return JSONResponse({"received": True, "duplicate": not is_new})
