"""LimitedProvider: at most N LLM calls in flight; Retry-After honoured between tries."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from tenacity import AsyncRetrying, RetryCallState

from bot.adapters.llm.limits import MAX_WAIT_S, LimitedProvider, _wait
from recovery.drafting.provider import ProviderReply, Usage


class CountingProvider:
    """An LLMProvider that blocks until released and records how many calls overlap."""

    name = "counting"
    model = "m"

    def __init__(self) -> None:
        self.in_flight = 0
        self.most_in_flight = 0
        self.calls = 0
        self.release = asyncio.Event()
        self.reached: dict[int, asyncio.Event] = {}

    def when(self, calls: int) -> asyncio.Event:
        return self.reached.setdefault(calls, asyncio.Event())

    async def generate(self, *, system: str, user: str) -> ProviderReply:
        self.calls += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.when(self.calls).set()
        await self.release.wait()
        self.in_flight -= 1
        return ProviderReply(subject="s", body="b", usage=Usage())

    async def aclose(self) -> None:
        """Nothing to close."""


async def test_no_more_than_the_concurrency_calls_are_in_flight() -> None:
    inner = CountingProvider()
    limited = LimitedProvider(inner, concurrency=2, is_retryable=lambda _e: False)
    calls = [asyncio.create_task(limited.generate(system="s", user="u")) for _ in range(5)]
    await asyncio.wait_for(inner.when(2).wait(), 5)
    for _ in range(10):  # let every waiting task run as far as it can
        await asyncio.sleep(0)
    assert inner.calls == 2
    inner.release.set()
    await asyncio.gather(*calls)
    assert inner.calls == 5 and inner.most_in_flight == 2


def _wait_after(headers: dict[str, str]) -> float:
    error = httpx.HTTPStatusError(
        "429",
        request=httpx.Request("POST", "http://llm.test"),
        response=httpx.Response(429, headers=headers),
    )
    state = RetryCallState(retry_object=AsyncRetrying(), fn=None, args=(), kwargs={})
    state.set_exception((type(error), error, None))
    return _wait(state)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "600"}, MAX_WAIT_S),
    ],
)
def test_the_wait_is_the_providers_retry_after(headers: dict[str, str], expected: float) -> None:
    assert _wait_after(headers) == pytest.approx(expected)
