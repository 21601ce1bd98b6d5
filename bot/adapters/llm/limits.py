"""Bounded concurrency and in-process retries (429 with Retry-After, 5xx, network) around
any LLMProvider. The wait between tries happens outside the concurrency slot."""

from __future__ import annotations

from asyncio import Semaphore
from collections.abc import Callable

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from recovery.drafting.provider import LLMProvider, ProviderReply

DEFAULT_LLM_CONCURRENCY = 8
ATTEMPTS = 3
# A longer Retry-After is not waited for here: the drafter falls back or the job retries.
MAX_WAIT_S = 20.0

_backoff = wait_exponential_jitter(multiplier=0.5, max=MAX_WAIT_S)


def retry_after_s(error: BaseException | None) -> float | None:
    """The provider's `retry-after-ms` / `retry-after` hint (seconds), if the error has one."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or {}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(float(value) * scale, 0.0)
        except ValueError:
            continue
    return None


def _wait(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome else None
    hinted = retry_after_s(error)
    return min(hinted, MAX_WAIT_S) if hinted is not None else _backoff(state)


class LimitedProvider:
    """An LLMProvider with at most `concurrency` calls in flight and retried transient errors."""

    def __init__(
        self,
        inner: LLMProvider,
        *,
        concurrency: int = DEFAULT_LLM_CONCURRENCY,
        is_retryable: Callable[[BaseException], bool],
        attempts: int = ATTEMPTS,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self._slots = Semaphore(concurrency)
        self._is_retryable = is_retryable
        self._attempts = attempts

    async def generate(self, *, system: str, user: str) -> ProviderReply:
        """One reply; a 429 waits the provider's Retry-After (without holding a slot)."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(self._is_retryable),
            wait=_wait,
            stop=stop_after_attempt(self._attempts),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                async with self._slots:
                    return await self.inner.generate(system=system, user=user)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def aclose(self) -> None:
        await self.inner.aclose()
