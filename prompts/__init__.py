"""Versioned LLM prompts and the template drafter's texts (imports nothing of ours)."""

from prompts.inputs import PromptInputs
from prompts.render import PROMPT_VERSION, language_name, render_prompt
from prompts.template_texts import (
    SUPPORTED_LANGUAGES,
    TEMPLATE_VERSION,
    TEXTS,
    template_email,
    template_language,
)

__all__ = [
    "PROMPT_VERSION",
    "SUPPORTED_LANGUAGES",
    "TEMPLATE_VERSION",
    "TEXTS",
    "PromptInputs",
    "language_name",
    "render_prompt",
    "template_email",
    "template_language",
]
