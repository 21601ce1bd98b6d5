"""Drafting rules: the LLM provider protocol, prompts, pricing and the guarded drafter.

The concrete providers (OpenAI, Anthropic) and the factory choosing one live in
`bot/adapters/llm/`.
"""

from recovery.drafting.guarded import GuardedDrafter
from recovery.drafting.pricing import estimate_cost
from recovery.drafting.prompting import prompt_inputs, render_prompt, template_draft
from recovery.drafting.provider import (
    LLMProvider,
    ProviderOutputError,
    ProviderReply,
    Usage,
)

__all__ = [
    "GuardedDrafter",
    "LLMProvider",
    "ProviderOutputError",
    "ProviderReply",
    "Usage",
    "estimate_cost",
    "prompt_inputs",
    "render_prompt",
    "template_draft",
]
