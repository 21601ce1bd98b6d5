"""POST /stripe/webhook under hostile or malformed input: refused at once, nothing else lost."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from starlette.types import Message

from bot.routes.stripe_webhook import MAX_BODY_BYTES, MAX_SIGNATURES, WebhookEndpoint
from bot.runtime import Runtime
from bot.settings import Settings
from storage.db import Database
from storage.models import StripeEventRow
from tests.fakes.stripe_events import sign_payload
from tests.web.conftest import WEBHOOK_SECRET
from tests.web.test_stripe_webhook import counts, failed_event, post


async def test_more_signatures_than_the_cap_are_refused_even_with_a_valid_one(
    client: httpx.AsyncClient, db: Database
) -> None:
    body = json.dumps(failed_event()).encode()
    valid = sign_payload(body, WEBHOOK_SECRET)
    junk = ",".join(f"v1={n:064x}" for n in range(MAX_SIGNATURES))
    response = await post(client, body, f"{valid},{junk}")
    assert response.status_code == 400 and "signatures" in response.json()["error"]
    assert await counts(db) == (0, 0)
    rolling = sign_payload(body, WEBHOOK_SECRET) + ",v1=" + "0" * 64  # two secrets: accepted
    assert (await post(client, body, rolling)).status_code == 200


async def test_a_timestamp_301_seconds_in_the_future_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    body = json.dumps(failed_event()).encode()
    ahead = sign_payload(body, WEBHOOK_SECRET, timestamp=int(time.time()) + 301)
    response = await post(client, body, ahead)
    assert response.status_code == 400 and "future" in response.json()["error"]
    assert await counts(db) == (0, 0)
    slightly_ahead = sign_payload(body, WEBHOOK_SECRET, timestamp=int(time.time()) + 280)
    assert (await post(client, body, slightly_ahead)).status_code == 200


async def test_an_announced_oversized_body_is_refused_unread(
    settings: Settings, db: Database
) -> None:
    endpoint = WebhookEndpoint(Runtime(settings=settings, db=db))
    sent: list[Message] = []

    async def receive() -> Message:
        raise AssertionError("the body was read")

    async def send(message: Message) -> None:
        sent.append(message)

    length = str(MAX_BODY_BYTES + 1).encode()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/stripe/webhook",
        "headers": [(b"content-length", length), (b"stripe-signature", b"t=1,v1=0")],
    }
    await endpoint(scope, receive, send)
    assert sent[0]["status"] == 413


def with_field(path: str, value: Any) -> dict[str, Any]:
    event = failed_event("evt_bad")
    target = event
    *parents, last = path.split(".")
    for key in parents:
        target = target[key]
    target[last] = value
    return event


MALFORMED = {
    "created beyond 64 bits": with_field("created", 2**70),
    "created as text": with_field("created", "1700000000"),
    "created negative": with_field("created", -1),
    "created missing": {k: v for k, v in failed_event("evt_bad").items() if k != "created"},
    "id not evt_": with_field("id", "in_123"),
    "id too long": with_field("id", "evt_" + "a" * 300),
    "type too long": with_field("type", "invoice." + "x" * 200),
    "object id a number": with_field("data.object.id", 12345),
    "NUL in the type": with_field("type", "invoice.payment_\x00failed"),
    "NUL in the object id": with_field("data.object.id", "in_\x00123"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_a_signed_but_unstorable_event_is_refused(
    case: str, client: httpx.AsyncClient, db: Database
) -> None:
    body = json.dumps(MALFORMED[case]).encode()
    response = await post(client, body, sign_payload(body, WEBHOOK_SECRET))
    assert response.status_code == 400, response.text
    assert await counts(db) == (0, 0)


async def test_a_nul_in_the_payload_is_stored_as_delivered(
    client: httpx.AsyncClient, db: Database
) -> None:
    # Both databases hold the JSON escape \u0000; refusing the event would lose the case.
    event = with_field("data.object.customer_name", "Zoë\x00Müller")
    event["data"]["object"]["metadata"] = {"a\x00b": "c"}
    body = json.dumps(event).encode()
    response = await post(client, body, sign_payload(body, WEBHOOK_SECRET))
    assert response.status_code == 200
    async with db.sessions() as session:
        stored = await session.get(StripeEventRow, "evt_bad")
    assert stored is not None and stored.payload == event


def with_constant(constant: str) -> str:
    """An event whose amount is a bare `NaN`/`Infinity`, which Python's json would accept."""
    text = json.dumps(with_field("data.object.amount_due", 987654321))
    assert text.count("987654321") == 1
    return text.replace("987654321", constant)


@pytest.mark.parametrize(
    "body",
    [
        with_constant("NaN"),
        with_constant("-Infinity"),
        '{"id": "evt_deep", "data": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
    ids=["NaN", "Infinity", "nested 100k deep"],
)
async def test_a_signed_body_that_is_not_plain_json_is_refused(
    body: str, client: httpx.AsyncClient, db: Database
) -> None:
    raw = body.encode()
    response = await post(client, raw, sign_payload(raw, WEBHOOK_SECRET))
    assert response.status_code == 400, response.text
    assert await counts(db) == (0, 0)


async def test_a_bad_event_among_three_good_ones_fails_alone(
    client: httpx.AsyncClient, db: Database
) -> None:
    good = [failed_event(f"evt_good_{n}") for n in range(3)]
    for n, event in enumerate(good):
        event["data"]["object"]["id"] = f"in_good_{n}"
    bad = with_field("created", 2**70)
    bodies = [json.dumps(event).encode() for event in [*good[:2], bad, good[2]]]
    responses = await asyncio.gather(
        *(post(client, body, sign_payload(body, WEBHOOK_SECRET)) for body in bodies)
    )
    assert [r.status_code for r in responses] == [200, 200, 400, 200]
    assert "created" in responses[2].json()["error"]
    assert await counts(db) == (3, 3)
