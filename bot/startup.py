"""The settings a command cannot run without, checked before anything heavy is imported.

`dunbot serve`, `worker` and `draft` call `missing_settings` first, so a missing key is a
one-line message in a fraction of a second instead of after importing the Stripe and LLM
SDKs. `dunbot check` gives the full list (bot/checks.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.settings import Settings


def missing_settings(settings: Settings, *, billing: bool = True) -> list[str]:
    """What stops the runtime from being built: the Stripe key, the chosen LLM's key."""
    problems: list[str] = []
    if billing and settings.stripe_api_key is None:
        problems.append("STRIPE_API_KEY is not set (run `dunbot check`, or `dunbot demo`).")
    provider = settings.llm_provider.strip().lower()
    if provider == "openai" and settings.openai_api_key is None:
        problems.append("LLM_PROVIDER=openai needs OPENAI_API_KEY (or use LLM_PROVIDER=template).")
    if provider == "anthropic" and settings.anthropic_api_key is None:
        problems.append("LLM_PROVIDER=anthropic needs ANTHROPIC_API_KEY.")
    return problems
