"""POST /stripe/webhook: verified, stored once with its job, nothing else in the request."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from starlette.types import Message

from bot.app import create_app
from bot.routes.stripe_webhook import WebhookEndpoint
from bot.runtime import Runtime
from bot.settings import Settings
from storage.db import Database
from storage.models import Job, StripeEventRow
from tests.fakes.stripe_events import build_event, sign_payload
from tests.fakes.stripe_server import load_fixture
from tests.web.conftest import WEBHOOK_SECRET


def failed_event(event_id: str = "evt_failed_1") -> dict:
    invoice = load_fixture("invoice")
    invoice.update(status="open", attempt_count=1)
    return build_event("invoice.payment_failed", invoice, event_id=event_id)


async def post(client: httpx.AsyncClient, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["stripe-signature"] = signature
    return await client.post("/stripe/webhook", content=body, headers=headers)


@contextlib.asynccontextmanager
async def asgi_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dunbot.test") as http:
        yield http


async def counts(db: Database) -> tuple[int, int]:
    async with db.sessions() as session:
        events = await session.scalar(select(func.count()).select_from(StripeEventRow))
        jobs = await session.scalar(select(func.count()).select_from(Job))
    return events or 0, jobs or 0


async def test_valid_event_is_stored_with_one_job(client: httpx.AsyncClient, db: Database) -> None:
    body = json.dumps(failed_event()).encode()
    response = await post(client, body, sign_payload(body, WEBHOOK_SECRET))
    assert response.status_code == 200
    async with db.sessions() as session:
        job = await session.scalar(select(Job))
        event = await session.get(StripeEventRow, "evt_failed_1")
    assert event is not None and event.type == "invoice.payment_failed"
    assert job is not None and job.kind == "process_stripe_event"
    assert job.payload == {"event_id": "evt_failed_1"}
    assert job.serial_key == f"invoice:{event.object_id}"


async def test_duplicate_sequential_deliveries_store_one_event_and_job(
    client: httpx.AsyncClient, db: Database
) -> None:
    body = json.dumps(failed_event()).encode()
    for _ in range(3):
        response = await post(client, body, sign_payload(body, WEBHOOK_SECRET))
        assert response.status_code == 200
    assert response.json()["duplicate"] is True
    assert await counts(db) == (1, 1)


async def test_five_concurrent_duplicates_store_one_event_and_job(
    client: httpx.AsyncClient, db: Database
) -> None:
    body = json.dumps(failed_event()).encode()
    signature = sign_payload(body, WEBHOOK_SECRET)
    responses = await asyncio.gather(*(post(client, body, signature) for _ in range(5)))
    assert [r.status_code for r in responses] == [200] * 5
    assert sum(not r.json()["duplicate"] for r in responses) == 1
    assert await counts(db) == (1, 1)


async def test_the_payload_reads_back_as_delivered(client: httpx.AsyncClient, db: Database) -> None:
    # Stripe indents its bodies and sends non-ASCII characters as UTF-8; the stored payload
    # (on SQLite the delivered text itself) reads back as the same event.
    event = failed_event("evt_utf8")
    event["data"]["object"]["customer_name"] = "Zoë Müller — 山田"
    body = json.dumps(event, indent=2, ensure_ascii=False).encode()
    response = await post(client, body, sign_payload(body, WEBHOOK_SECRET))
    assert response.status_code == 200 and response.json() == {
        "received": True,
        "duplicate": False,
    }
    async with db.sessions() as session:
        stored = await session.get(StripeEventRow, "evt_utf8")
    assert stored is not None and stored.payload == event


async def test_a_body_that_is_not_utf8_is_rejected(client: httpx.AsyncClient, db: Database) -> None:
    body = b'{"id": "evt_latin1", "note": "Zo\xeb"}'
    response = await post(client, body, sign_payload(body, WEBHOOK_SECRET))
    assert response.status_code == 400 and "UTF-8" in response.json()["error"]
    assert await counts(db) == (0, 0)


async def test_tampered_body_is_rejected_and_nothing_stored(
    client: httpx.AsyncClient, db: Database
) -> None:
    body = json.dumps(failed_event()).encode()
    signature = sign_payload(body, WEBHOOK_SECRET)
    tampered = body.replace(b'"attempt_count": 1', b'"attempt_count": 9')
    assert tampered != body
    response = await post(client, tampered, signature)
    assert response.status_code == 400
    assert "signature" in response.json()["error"]
    assert await counts(db) == (0, 0)


async def test_wrong_secret_is_rejected(client: httpx.AsyncClient, db: Database) -> None:
    body = json.dumps(failed_event()).encode()
    response = await post(client, body, sign_payload(body, "whsec_someone_else"))
    assert response.status_code == 400
    assert await counts(db) == (0, 0)


async def test_timestamp_301_seconds_old_is_rejected(
    client: httpx.AsyncClient, db: Database
) -> None:
    body = json.dumps(failed_event()).encode()
    stale = sign_payload(body, WEBHOOK_SECRET, timestamp=int(time.time()) - 301)
    response = await post(client, body, stale)
    assert response.status_code == 400
    assert await counts(db) == (0, 0)
    fresh_enough = sign_payload(body, WEBHOOK_SECRET, timestamp=int(time.time()) - 280)
    assert (await post(client, body, fresh_enough)).status_code == 200


async def test_missing_signature_and_malformed_json_are_rejected(
    client: httpx.AsyncClient, db: Database
) -> None:
    body = json.dumps(failed_event()).encode()
    assert (await post(client, body, None)).status_code == 400
    garbage = b'{"id": "evt_x", "type": '
    response = await post(client, garbage, sign_payload(garbage, WEBHOOK_SECRET))
    assert response.status_code == 400 and "JSON" in response.json()["error"]
    not_event = b'{"hello": "world"}'
    response = await post(client, not_event, sign_payload(not_event, WEBHOOK_SECRET))
    assert response.status_code == 400 and "not a Stripe event" in response.json()["error"]
    assert await counts(db) == (0, 0)


async def test_unhandled_event_types_are_stored_and_acknowledged(
    client: httpx.AsyncClient, db: Database
) -> None:
    event = build_event("charge.refunded", load_fixture("charge"), event_id="evt_other")
    body = json.dumps(event).encode()
    response = await post(client, body, sign_payload(body, WEBHOOK_SECRET))
    assert response.status_code == 200
    assert await counts(db) == (1, 1)


async def test_healthz_and_metrics(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz")
    assert health.status_code == 200 and health.json()["database"] == "ok"
    body = json.dumps(failed_event()).encode()
    await post(client, body, sign_payload(body, WEBHOOK_SECRET))
    await post(client, body, b"t=1,v1=bad".decode())
    metrics = (await client.get("/metrics")).text
    assert (
        'dunbot_stripe_events_total{result="stored",type="invoice.payment_failed"} 1.0' in metrics
    )
    assert 'dunbot_stripe_events_total{result="rejected",type="unknown"} 1.0' in metrics
    assert "dunbot_queue_depth 1.0" in metrics


async def test_without_a_secret_deliveries_are_refused_with_503(
    settings: Settings, db: Database
) -> None:
    app = create_app(
        Runtime(settings=settings.model_copy(update={"stripe_webhook_secret": None}), db=db)
    )
    body = json.dumps(failed_event()).encode()
    async with asgi_client(app) as http:
        response = await post(http, body, sign_payload(body, WEBHOOK_SECRET))
    assert response.status_code == 503
    assert response.json() == {"error": "STRIPE_WEBHOOK_SECRET is not configured"}
    assert await counts(db) == (0, 0)


async def test_a_body_in_several_chunks_is_read_whole(settings: Settings, db: Database) -> None:
    endpoint = WebhookEndpoint(Runtime(settings=settings, db=db))
    body = json.dumps(failed_event("evt_chunked")).encode()
    chunks = [body[:100], body[100:2000], body[2000:]]
    messages = [
        {"type": "http.request", "body": chunk, "more_body": n < len(chunks) - 1}
        for n, chunk in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    signature = sign_payload(body, WEBHOOK_SECRET).encode()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/stripe/webhook",
        "headers": [(b"stripe-signature", signature)],
    }
    await endpoint(scope, receive, send)
    assert sent[0]["status"] == 200 and sent[1]["body"] == b'{"received":true,"duplicate":false}'
    assert await counts(db) == (1, 1)


async def test_other_methods_get_405_and_other_paths_go_through_fastapi(
    client: httpx.AsyncClient, db: Database
) -> None:
    for method in ("GET", "PUT", "DELETE", "HEAD", "OPTIONS"):
        response = await client.request(method, "/stripe/webhook")
        assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert (await client.post("/stripe/webhooks", content=b"{}")).status_code == 404
    assert await counts(db) == (0, 0)


def test_the_webhook_has_one_entry_point(settings: Settings, db: Database) -> None:
    # POSTs are answered by `WebhookEndpoint`; no FastAPI route could answer them instead.
    app = create_app(Runtime(settings=settings, db=db))
    assert not [r for r in app.routes if getattr(r, "path", None) == "/stripe/webhook"]


async def test_oversized_body_is_refused_unread_and_nothing_stored(
    client: httpx.AsyncClient, db: Database
) -> None:
    from bot.routes.stripe_webhook import MAX_BODY_BYTES

    body = b'{"id": "evt_big", "pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = await post(client, body, sign_payload(body, WEBHOOK_SECRET))
    assert response.status_code == 413 and "too large" in response.json()["error"]
    assert await counts(db) == (0, 0)
