"""Fixtures for the Stripe side: a fake Stripe on a free port, StripeBilling aimed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.adapters.stripe_billing import StripeBilling
from tests.fakes.stripe_server import DEFAULT_API_KEY, FakeStripe


@pytest.fixture
async def billing(stripe_api: FakeStripe) -> AsyncIterator[StripeBilling]:
    """StripeBilling on the real SDK, no SDK retries (tests that need them build their own)."""
    client = StripeBilling.connect(
        api_key=DEFAULT_API_KEY, api_base=stripe_api.base_url, max_network_retries=0
    )
    yield client
    await client.aclose()
