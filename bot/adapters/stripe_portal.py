"""Stripe customer portal sessions (`POST /v1/billing_portal/sessions`) through the SDK."""

from __future__ import annotations

import stripe

from bot.adapters.stripe_billing import create_stripe_client
from recovery.protocols import BillingError

_TIMEOUT_S = 10.0  # a customer is waiting on the redirect


async def create_portal_session(
    *,
    api_key: str,
    api_base: str | None,
    customer_id: str,
    return_url: str,
    idempotency_key: str,
) -> str:
    """The URL of a new portal session for the customer; BillingError when Stripe fails."""
    # aiohttp, not the SDK's httpx client: that one posts form bodies with httpx's deprecated
    # `data=<bytes>`, which warns on every write.
    http_client = stripe.AIOHTTPClient(timeout=_TIMEOUT_S)
    client = create_stripe_client(api_key, api_base, 1, http_client=http_client)
    try:
        session = await client.v1.billing_portal.sessions.create_async(
            {"customer": customer_id, "return_url": return_url},
            {"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as error:
        raise BillingError(
            f"Stripe could not open a portal session (HTTP {error.http_status}, "
            f"request {error.request_id})"
        ) from error
    finally:
        await http_client.close_async()
    return str(session.url)
