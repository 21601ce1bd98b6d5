"""Fixtures for drafting tests: fake LLM servers and drafters pointed at them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.adapters.llm.factory import build_drafter
from recovery.domain import AttemptStage, DeclineCategory, DraftRequest
from recovery.drafting import GuardedDrafter
from tests.fakes.llm_servers import FakeAnthropic, FakeOpenAI

TEST_TIMEOUT_S = 2.0


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    """A fake OpenAI API on a free local port (base_url ends in /v1)."""
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def fake_anthropic() -> AsyncIterator[FakeAnthropic]:
    """A fake Anthropic API on a free local port."""
    async with FakeAnthropic() as server:
        yield server


@pytest.fixture
async def openai_drafter(fake_openai: FakeOpenAI) -> AsyncIterator[GuardedDrafter]:
    """The real OpenAI SDK behind a GuardedDrafter, talking to the fake."""
    drafter = build_drafter(
        "openai",
        model="gpt-5-mini",
        openai_api_key="sk-test",
        openai_base_url=fake_openai.base_url,
        timeout_s=TEST_TIMEOUT_S,
    )
    yield drafter
    await drafter.aclose()


@pytest.fixture
async def anthropic_drafter(fake_anthropic: FakeAnthropic) -> AsyncIterator[GuardedDrafter]:
    """The real Anthropic SDK behind a GuardedDrafter, talking to the fake."""
    drafter = build_drafter(
        "anthropic",
        model="claude-haiku-4-5",
        anthropic_api_key="sk-ant-test",
        anthropic_base_url=fake_anthropic.base_url,
        timeout_s=TEST_TIMEOUT_S,
    )
    yield drafter
    await drafter.aclose()


def make_request(**overrides: object) -> DraftRequest:
    """A standard request: $49.00, first failure, insufficient funds."""
    fields: dict[str, object] = {
        "invoice_id": "in_test",
        "invoice_number": "INV-0042",
        "customer_name": "Ana Example",
        "customer_email": "ana@example.com",
        "company_name": "Acme",
        "locale": "en",
        "decline_category": DeclineCategory.INSUFFICIENT_FUNDS,
        "stage": AttemptStage.FIRST,
        "will_retry": True,
        "amount_due": 4900,
        "currency": "usd",
    }
    fields.update(overrides)
    return DraftRequest.model_validate(fields)
