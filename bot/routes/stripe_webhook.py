"""POST /stripe/webhook: verify, store the event and its job in one transaction, ack."""

from __future__ import annotations

import json
import logging
from typing import Any

import stripe
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from bot.runtime import Runtime
from recovery.ingest import ingest_item

log = logging.getLogger("dunbot.stripe")
router = APIRouter()


class WebhookRejected(Exception):
    """The request is not a valid, fresh Stripe event."""


def decode_body(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected("body is not UTF-8") from None


def verify_and_parse(
    body: str, signature: str | None, secret: str, tolerance_s: int
) -> dict[str, Any]:
    """Stripe's own signature check on the raw body (decoded), then a minimal shape check."""
    if not signature:
        raise WebhookRejected("missing Stripe-Signature header")
    try:
        stripe.WebhookSignature.verify_header(body, signature, secret, tolerance=tolerance_s)
    except stripe.SignatureVerificationError as error:
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


_STORED = b'{"received":true,"duplicate":false}'
_DUPLICATE = b'{"received":true,"duplicate":true}'


@router.post("/stripe/webhook")
async def stripe_webhook(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    secret = runtime.settings.stripe_webhook_secret
    if secret is None:
        return JSONResponse({"error": "STRIPE_WEBHOOK_SECRET is not configured"}, status_code=503)
    try:
        body = decode_body(await request.body())
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

    # The payload is stored as the delivered text: the signed bytes, no re-serialisation.
    is_new = await runtime.ingest.submit(ingest_item(event, payload_json=body))
    result = "stored" if is_new else "duplicate"
    runtime.metrics.webhook_events.labels(type=event["type"], result=result).inc()
    return Response(_STORED if is_new else _DUPLICATE, media_type="application/json")
