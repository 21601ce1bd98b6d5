"""POST /stripe/webhook: verify, store the event and its job in one transaction, ack.

Answered by `WebhookEndpoint`, a bare ASGI endpoint ahead of FastAPI (see `bot.app`).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.types import Receive, Scope, Send

# Bound once: `stripe.X` resolves through the package's lazy __getattr__ on every access.
from stripe import SignatureVerificationError, WebhookSignature

from bot.runtime import Runtime
from recovery.ingest import UnstorableEvent, ingest_item

log = logging.getLogger("dunbot.stripe")


class WebhookRejected(Exception):
    """The request is not a valid, fresh Stripe event."""


def decode_body(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected("body is not UTF-8") from None


MAX_SIGNATURES = 8  # Stripe sends one `v1=` per active secret (two while rolling one)


def verify_and_parse(
    body: str, signature: str | None, secret: str, tolerance_s: int
) -> dict[str, Any]:
    """Stripe's own signature check on the raw body (decoded), its time window applied in both
    directions, then a minimal shape check."""
    if not signature:
        raise WebhookRejected("missing Stripe-Signature header")
    if signature.count("v1=") > MAX_SIGNATURES:
        raise WebhookRejected(f"more than {MAX_SIGNATURES} signatures in Stripe-Signature")
    try:
        WebhookSignature.verify_header(body, signature, secret, tolerance=tolerance_s)
    except SignatureVerificationError as error:
        raise WebhookRejected(f"signature verification failed: {error}") from None
    signed_at = _signed_at(signature)  # the SDK only refuses old timestamps, not future ones
    if signed_at is None or signed_at > time.time() + tolerance_s:
        raise WebhookRejected("signature verification failed: timestamp in the future")
    try:
        event = json.loads(body, parse_constant=_refuse_constant)
    except json.JSONDecodeError:
        raise WebhookRejected("body is not valid JSON") from None
    except RecursionError:
        raise WebhookRejected("body is nested too deeply") from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        raise WebhookRejected("body is not a Stripe event (no id)")
    data = event.get("data")
    if not isinstance(event.get("type"), str) or not isinstance(data, dict):
        raise WebhookRejected("body is not a Stripe event (no type or data)")
    if not isinstance(data.get("object"), dict):
        raise WebhookRejected("body is not a Stripe event (no data.object)")
    return event


def _signed_at(signature: str) -> int | None:
    """The `t=` timestamp of a Stripe-Signature header (the first, as the SDK reads it)."""
    for item in signature.split(","):
        key, _, value = item.partition("=")
        if key == "t":
            return int(value) if value.isdigit() else None
    return None


def _refuse_constant(name: str) -> Any:
    raise WebhookRejected(f"body holds {name}, which is not JSON")


_STORED = b'{"received":true,"duplicate":false}'
_DUPLICATE = b'{"received":true,"duplicate":true}'
_NOT_STORED = (500, b'{"error":"the event could not be stored; Stripe will retry"}')
_NO_SECRET = (503, b'{"error":"STRIPE_WEBHOOK_SECRET is not configured"}')
_TOO_LARGE = (413, b'{"error":"body too large for a Stripe event"}')
_NOT_POST = (405, b'{"error":"method not allowed: Stripe delivers events with POST"}')
PATH = "/stripe/webhook"
MAX_BODY_BYTES = 1_048_576  # Stripe events are far smaller; refuse bigger bodies unread


async def handle_delivery(runtime: Runtime, raw: bytes, signature: str | None) -> tuple[int, bytes]:
    """One delivery, start to finish: the status code and JSON body to answer with."""
    secret = runtime.settings.stripe_webhook_secret
    if secret is None:
        return _NO_SECRET
    try:
        body = decode_body(raw)
        event = verify_and_parse(
            body, signature, secret.get_secret_value(), runtime.settings.stripe_webhook_tolerance_s
        )
        # Checked before batching: an event the database cannot hold never fails others.
        # The payload is stored as the delivered text: the signed bytes, no re-serialisation.
        item = ingest_item(event, payload_json=body)
    except (WebhookRejected, UnstorableEvent) as rejection:
        runtime.metrics.count_event(type="unknown", result="rejected")
        log.info("stripe webhook rejected", extra={"reason": str(rejection)})
        # As JSONResponse renders it.
        error = json.dumps({"error": str(rejection)}, ensure_ascii=False, separators=(",", ":"))
        return 400, error.encode()

    try:
        is_new = await runtime.ingest.submit(item)
    except Exception:  # noqa: BLE001 - logged by the writer; Stripe retries a 500
        runtime.metrics.count_event(type=event["type"], result="failed")
        return _NOT_STORED
    result = "stored" if is_new else "duplicate"
    runtime.metrics.count_event(type=event["type"], result=result)
    return 200, _STORED if is_new else _DUPLICATE


class WebhookEndpoint:
    """/stripe/webhook as a bare ASGI endpoint, ahead of FastAPI (see `bot.app`).

    Skips FastAPI's per-request machinery (routing, request object, dependencies, middleware)
    on the hot path. Answers POST (`handle_delivery`); any other method gets 405.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @staticmethod
    def matches(scope: Scope) -> bool:
        return scope["type"] == "http" and scope["path"] == PATH

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await self._answer(send, *_NOT_POST, extra=[(b"allow", b"POST")])
            return
        signature = None
        for name, value in scope["headers"]:
            if name == b"stripe-signature":
                signature = value.decode("latin-1")
            elif name == b"content-length" and not _within(value, MAX_BODY_BYTES):
                await self._answer(send, *_TOO_LARGE)  # refused unread
                return
        chunks = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its body: nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                await self._answer(send, *_TOO_LARGE)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        status, content = await handle_delivery(self.runtime, b"".join(chunks), signature)
        await self._answer(send, status, content)

    @staticmethod
    async def _answer(
        send: Send, status: int, content: bytes, extra: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        headers = [(b"content-length", str(len(content)).encode()), _JSON_CONTENT_TYPE]
        if extra:
            headers.extend(extra)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})


_JSON_CONTENT_TYPE = (b"content-type", b"application/json")


def _within(content_length: bytes, limit: int) -> bool:
    """Whether a Content-Length header announces at most `limit` bytes (unparsable: let the
    server's own parser have refused it; the body is still counted while read)."""
    return not content_length.isdigit() or len(content_length) < 16 and int(content_length) <= limit
