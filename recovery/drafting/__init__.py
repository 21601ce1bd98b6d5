"""Drafting: LLM providers, the guarded drafter with template fallback, and its factory."""

from recovery.drafting.anthropic_provider import AnthropicProvider
from recovery.drafting.factory import DrafterConfigError, ProviderName, build_drafter
from recovery.drafting.guarded import GuardedDrafter
from recovery.drafting.openai_provider import OpenAIProvider
from recovery.drafting.pricing import estimate_cost
from recovery.drafting.prompting import prompt_inputs, render_prompt, template_draft
from recovery.drafting.provider import (
    LLMProvider,
    ProviderOutputError,
    ProviderReply,
    Usage,
)

__all__ = [
    "AnthropicProvider",
    "DrafterConfigError",
    "GuardedDrafter",
    "LLMProvider",
    "OpenAIProvider",
    "ProviderName",
    "ProviderOutputError",
    "ProviderReply",
    "Usage",
    "build_drafter",
    "estimate_cost",
    "prompt_inputs",
    "render_prompt",
    "template_draft",
]
