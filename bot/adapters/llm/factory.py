"""Build the configured Drafter from explicit settings (bot/ reads the environment).

A provider's module (and so its SDK) is imported only when that provider is chosen.
"""

from __future__ import annotations

from typing import Literal

from bot.adapters.llm.budget import SharedLLMBudget
from bot.adapters.llm.limits import DEFAULT_LLM_CONCURRENCY, LimitedProvider
from recovery.drafting.guarded import DEFAULT_TIMEOUT_S, GuardedDrafter
from recovery.drafting.provider import LLMProvider

ProviderName = Literal["openai", "anthropic", "template"]


class DrafterConfigError(ValueError):
    """The drafter settings are incomplete (e.g. a provider without its API key)."""


def build_drafter(
    provider: str,
    *,
    model: str | None = None,
    openai_api_key: str | None = None,
    openai_base_url: str | None = None,
    anthropic_api_key: str | None = None,
    anthropic_base_url: str | None = None,
    company_name: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    request_timeout_s: float = 30.0,
    max_retries: int = 1,
    concurrency: int = DEFAULT_LLM_CONCURRENCY,
    budget: SharedLLMBudget | None = None,
) -> GuardedDrafter:
    """A GuardedDrafter for `openai`, `anthropic` or `template` (offline, deterministic).

    At most `concurrency` LLM calls are in flight; 429 (after its Retry-After), 5xx and
    network errors are retried `max_retries` times by tenacity (the SDK's own retries are off).
    With `budget`, every call is admitted against the per-minute budget all processes share.
    """
    llm: LLMProvider | None
    match provider.strip().lower():
        case "openai":
            if not openai_api_key:
                raise DrafterConfigError("LLM_PROVIDER=openai needs OPENAI_API_KEY")
            from bot.adapters.llm import openai_provider

            llm = openai_provider.OpenAIProvider(
                api_key=openai_api_key,
                base_url=openai_base_url or None,
                model=model or openai_provider.DEFAULT_OPENAI_MODEL,
                request_timeout_s=request_timeout_s,
                max_retries=0,
            )
            is_retryable = openai_provider.is_retryable
        case "anthropic":
            if not anthropic_api_key:
                raise DrafterConfigError("LLM_PROVIDER=anthropic needs ANTHROPIC_API_KEY")
            from bot.adapters.llm import anthropic_provider

            llm = anthropic_provider.AnthropicProvider(
                api_key=anthropic_api_key,
                base_url=anthropic_base_url or None,
                model=model or anthropic_provider.DEFAULT_ANTHROPIC_MODEL,
                request_timeout_s=request_timeout_s,
                max_retries=0,
            )
            is_retryable = anthropic_provider.is_retryable
        case "template" | "":
            llm = None
        case other:
            raise DrafterConfigError(
                f"unknown LLM_PROVIDER {other!r}: use openai, anthropic or template"
            )
    if llm is not None:
        llm = LimitedProvider(
            llm,
            concurrency=concurrency,
            is_retryable=is_retryable,
            attempts=max_retries + 1,
            budget=budget,
        )
    return GuardedDrafter(provider=llm, timeout_s=timeout_s, company_name=company_name)
