"""Render the versioned system and user prompts from plain inputs."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from prompts.data_block import clean_text, customer_data, quoted_text
from prompts.guidance import RETRY_GUIDANCE, decline_guidance, stage_guidance
from prompts.inputs import PromptInputs
from prompts.template_texts import SUPPORTED_LANGUAGES

PROMPT_VERSION = "v1"
TEMPLATES_DIR = Path(__file__).parent / "templates"
_LOCALE_RE = re.compile(r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8}){0,2}$")


@cache
def _environment(version: str) -> Environment:
    """One Jinja environment per prompt version; plain text, so no HTML autoescape."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR / version),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )


def language_name(locale: str | None) -> str:
    """English name of the locale's language ('fr-FR' → 'French'); English when unknown or
    when dunbot has no email frame in that language, so the body never mixes with the frame."""
    if not locale or not _LOCALE_RE.match(locale):
        return "English"
    try:
        parsed = Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return "English"
    if parsed.language not in SUPPORTED_LANGUAGES:
        return "English"
    return parsed.get_language_name("en") or "English"


def _inert(text: str) -> str:
    """Instruction-side text with tag and template look-alikes removed."""
    return clean_text(text, limit=300).translate(str.maketrans("", "", "<>{}`"))


def render_prompt(inputs: PromptInputs, *, version: str = PROMPT_VERSION) -> tuple[str, str]:
    """Return (system, user) prompts; customer fields only inside <customer_data>."""
    env = _environment(version)
    language = language_name(inputs.locale)
    system = env.get_template("system.j2").render(
        company_name=_inert(inputs.company_name), language=language
    )
    user = env.get_template("user.j2").render(
        decline_guidance=decline_guidance(inputs.decline_category),
        stage_guidance=stage_guidance(inputs.stage),
        retry_guidance=RETRY_GUIDANCE[inputs.will_retry and inputs.stage != "final"],
        attempt_number=int(inputs.attempt_number),
        invoice_number=_inert(inputs.invoice_number) if inputs.invoice_number else None,
        language=language,
        customer_json=customer_data(
            name=inputs.customer_name,
            email=inputs.customer_email,
            company=inputs.customer_company,
            metadata=inputs.customer_metadata,
        ),
        previous_body=quoted_text(inputs.previous_body) if inputs.previous_body else None,
        reviewer_instruction=(
            quoted_text(inputs.reviewer_instruction, limit=500)
            if inputs.reviewer_instruction
            else None
        ),
        feedback=[_inert(reason) for reason in inputs.feedback],
    )
    return system, user
