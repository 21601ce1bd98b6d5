"""The fake Stripe server itself: envelopes, faults, recorded requests, and signed events."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
import stripe

from tests.fakes.stripe_events import build_event, sign_payload
from tests.fakes.stripe_server import DEFAULT_API_KEY, FakeStripe

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}


async def test_list_envelope_and_paging(stripe_api: FakeStripe) -> None:
    cus = stripe_api.add_customer()
    invoices = stripe_api.add_paid_invoices(customer=cus["id"], count=3, amount=100)
    async with httpx.AsyncClient(base_url=stripe_api.base_url, headers=AUTH) as http:
        first = (await http.get("/v1/invoices", params={"customer": cus["id"], "limit": 2})).json()
        rest = (
            await http.get(
                "/v1/invoices",
                params={
                    "customer": cus["id"],
                    "limit": 2,
                    "starting_after": first["data"][-1]["id"],
                },
            )
        ).json()

    assert first["object"] == "list" and first["url"] == "/v1/invoices"
    assert first["has_more"] is True and rest["has_more"] is False
    newest_first = [i["id"] for i in reversed(invoices)]
    assert [i["id"] for i in first["data"] + rest["data"]] == newest_first


async def test_errors_are_stripe_shaped(stripe_api: FakeStripe) -> None:
    stripe_api.fail_next(1, status=429, should_retry=True, retry_after=2)
    stripe_api.fail_next(1, status=500, path_prefix="/v1/customers")
    async with httpx.AsyncClient(base_url=stripe_api.base_url, headers=AUTH) as http:
        limited = await http.get("/v1/invoices/in_1")
        broken = await http.get("/v1/customers/cus_1")
        missing = await http.get("/v1/customers/cus_1")
        unknown = await http.get("/v1/nothing_here")
        unauthorised = await http.get("/v1/customers/cus_1", headers={"Authorization": ""})

    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limit"
    assert limited.headers["Stripe-Should-Retry"] == "true"
    assert limited.headers["Retry-After"] == "2"
    assert broken.status_code == 500 and broken.json()["error"]["type"] == "api_error"
    assert "Stripe-Should-Retry" not in broken.headers
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "resource_missing"
    assert unknown.status_code == 404 and "Unrecognized request URL" in unknown.text
    assert unauthorised.status_code == 401
    assert [r.status for r in stripe_api.requests] == [429, 500, 404, 404, 401]
    assert all("Authorization" not in r.headers for r in stripe_api.requests)


async def test_customer_search(stripe_api: FakeStripe) -> None:
    ana = stripe_api.add_customer(email="ana@example.com", metadata={"plan": "pro"})
    stripe_api.add_customer(email="bo@example.com", metadata={"plan": "pro"})
    http_client = stripe.HTTPXClient()
    client = stripe.StripeClient(
        DEFAULT_API_KEY, base_addresses={"api": stripe_api.base_url}, http_client=http_client
    )
    try:
        result = await client.v1.customers.search_async(
            {"query": "email:'ana@example.com' AND metadata['plan']:'pro'"}
        )
    finally:
        await http_client.close_async()

    assert [c.id for c in result.data] == [ana["id"]]


async def test_wait_for_requests_without_sleeping(stripe_api: FakeStripe) -> None:
    async def later() -> None:
        async with httpx.AsyncClient(base_url=stripe_api.base_url, headers=AUTH) as http:
            for _ in range(3):
                await http.get("/v1/invoices/in_x")

    task = asyncio.create_task(later())
    seen = await stripe_api.wait_for_requests(3, path_prefix="/v1/invoices/", timeout=5)
    await task

    assert len(seen) == 3 and all(r.path == "/v1/invoices/in_x" for r in seen)
    assert stripe_api.wait_for_requests_sync(3, timeout=1) == seen
    with pytest.raises(TimeoutError):
        await stripe_api.wait_for_requests(4, timeout=0.05)


@pytest.mark.parametrize("event_type", ["invoice.payment_failed", "invoice.paid"])
def test_built_event_verifies_with_the_stripe_sdk(event_type: str) -> None:
    invoice = {"id": "in_1", "object": "invoice", "status": "open", "amount_due": 4900}
    event = build_event(event_type, invoice, event_id="evt_fixed", created=1_700_000_000)
    payload = json.dumps(event).encode()
    secret = "whsec_test_secret"

    header = sign_payload(payload, secret)
    verified = stripe.Webhook.construct_event(payload.decode(), header, secret)

    assert verified.id == "evt_fixed" and verified.type == event_type
    assert verified.data.object.id == "in_1"
    assert event["api_version"] == "2026-06-24.dahlia" and event["object"] == "event"


def test_signature_format_and_stale_timestamp() -> None:
    payload = b'{"id": "evt_1"}'
    old = int(time.time()) - 3600

    header = sign_payload(payload, "whsec_x", timestamp=old)

    assert header.startswith(f"t={old},v1=") and len(header.split("v1=")[1]) == 64
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(payload.decode(), header, "whsec_x", tolerance=300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(
            payload.decode(), sign_payload(payload, "whsec_other"), "whsec_x", tolerance=300
        )


def test_build_event_gives_fresh_ids() -> None:
    invoice = {"id": "in_1"}
    assert build_event("invoice.paid", invoice)["id"] != build_event("invoice.paid", invoice)["id"]
