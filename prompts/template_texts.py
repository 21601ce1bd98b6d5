"""The deterministic template drafter: its texts in en, fr, de, es, it, nl, pt and ja (one module
per language in `prompts/texts/`); other languages fall back to English.

Each body is three sentences: an opening for the stage, the reason with what to do, and a
closing (the automatic retry only when one is planned, never on the final notice).
"""

from __future__ import annotations

from prompts.texts import de, en, es, fr, it, ja, nl, pt
from prompts.texts.model import LocaleTexts

TEMPLATE_VERSION = "template-v1"

TEXTS: dict[str, LocaleTexts] = {
    "en": en.TEXTS,
    "fr": fr.TEXTS,
    "de": de.TEXTS,
    "es": es.TEXTS,
    "it": it.TEXTS,
    "nl": nl.TEXTS,
    "pt": pt.TEXTS,
    "ja": ja.TEXTS,
}
SUPPORTED_LANGUAGES = frozenset(TEXTS)


def template_language(locale: str | None) -> str:
    """The template language for a locale ('fr-CA' → 'fr'); English when not translated."""
    language = (locale or "en").replace("-", "_").split("_")[0].lower()
    return language if language in TEXTS else "en"


def template_email(
    *,
    locale: str | None,
    decline_category: str,
    stage: str,
    will_retry: bool,
    company_name: str,
) -> tuple[str, str]:
    """Return (subject, body) for the situation, in the customer's language when we have it."""
    texts = TEXTS[template_language(locale)]
    stage = stage if stage in texts.subjects else "first"
    reason = texts.reasons.get(decline_category, texts.reasons["unknown"])
    if stage == "final":
        closing = texts.final
    elif will_retry:
        closing = texts.retry
    else:
        closing = texts.no_retry
    subject = texts.subjects[stage].replace("{company}", " ".join(company_name.split()))
    return subject, texts.joiner.join([texts.openings[stage], reason, closing])
