"""Bounded concurrency and in-process retries (429 with Retry-After, 5xx, network) around
any LLMProvider. The wait between tries happens outside the concurrency slot.

With a SharedLLMBudget every call (retries included) is first admitted against the budget
shared by all processes, and a 429's Retry-After holds every process's calls: a hint longer
than MAX_WAIT_S is not waited for here, the draft job is re-queued (ProviderDeferred)."""

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

from bot.adapters.llm.budget import SharedLLMBudget
from recovery.drafting.provider import LLMProvider, ProviderDeferred, ProviderReply

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
        budget: SharedLLMBudget | None = None,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self._slots = Semaphore(concurrency)
        self._is_retryable = is_retryable
        self._attempts = attempts
        self._budget = budget

    async def generate(self, *, system: str, user: str) -> ProviderReply:
        """One reply; a 429 waits the provider's Retry-After (without holding a slot).
        Raises ProviderDeferred when the shared budget or the provider's hold says wait."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(self._is_retryable),
            wait=_wait,
            stop=stop_after_attempt(self._attempts),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                async with self._slots:
                    if self._budget is not None:
                        await self._budget.admit()
                    try:
                        return await self.inner.generate(system=system, user=user)
                    except Exception as error:
                        await self._share_retry_after(error)
                        raise
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _share_retry_after(self, error: Exception) -> None:
        """A 429's Retry-After holds every process; one too long to wait here defers the job."""
        hinted = retry_after_s(error)
        if self._budget is None or getattr(error, "status_code", None) != 429 or not hinted:
            return
        await self._budget.hold_for(hinted)
        if hinted > MAX_WAIT_S:
            raise ProviderDeferred(
                delay_s=hinted, reason="the provider asked to wait (429 Retry-After)"
            ) from error

    async def aclose(self) -> None:
        await self.inner.aclose()
