"""The deterministic template drafter: localised, varying by decline and stage, always safe."""

from __future__ import annotations

import itertools
import re

import pytest

from prompts import TEXTS, template_email
from recovery.domain import AttemptStage, DeclineCategory
from recovery.guardrails import check_draft

CATEGORIES = [c.value for c in DeclineCategory]
STAGES = [s.value for s in AttemptStage]
RETRY_WORDS = re.compile(
    r"retr|try .* again|again automatically|retent|erneut|volveremos|riprover|opnieuw"
    r"|voltaremos|もう一度",
    re.I,
)


def draft(
    locale: str | None = "en", category: str = "unknown", stage: str = "first", retry: bool = False
) -> tuple[str, str]:
    return template_email(
        locale=locale, decline_category=category, stage=stage, will_retry=retry,
        company_name="Acme",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("locale", "category", "stage", "retry"),
    list(itertools.product(sorted(TEXTS), CATEGORIES, STAGES, [True, False])),
)
def test_every_template_passes_the_guardrails(
    locale: str, category: str, stage: str, retry: bool
) -> None:
    subject, body = draft(locale, category, stage, retry)
    assert check_draft(subject, body, amount_due=4900, currency="eur") == []


@pytest.mark.parametrize(("locale", "category"), list(itertools.product(TEXTS, CATEGORIES)))
def test_final_notice_never_mentions_a_retry(locale: str, category: str) -> None:
    _, body = draft(locale, category, "final", retry=True)
    assert not RETRY_WORDS.search(body), body


def test_retry_is_mentioned_only_when_planned() -> None:
    assert "automatically" in draft(retry=True)[1]
    assert "automatically" not in draft(retry=False)[1]
    assert "automatiquement" in draft("fr", retry=True)[1]
    assert "automatisch" in draft("de", retry=True)[1]


def test_languages_and_fallback() -> None:
    assert draft("fr-FR")[0] == "Votre paiement Acme n'a pas abouti"
    assert draft("de")[0] == "Ihre Zahlung an Acme ist fehlgeschlagen"
    assert draft("es-ES")[0] == "Su pago a Acme no se ha podido completar"
    assert draft("ja-JP")[0] == "Acmeへのお支払いが完了しませんでした"
    assert draft("ko") == draft("en") == draft("") == draft(None)


def test_text_varies_with_decline_and_stage() -> None:
    bodies = {draft("en", c, "first")[1] for c in CATEGORIES}
    assert len(bodies) == len(CATEGORIES)
    subjects = {draft("de", "unknown", s)[0] for s in STAGES}
    assert len(subjects) == len(STAGES)
    assert "expired" in draft("en", "expired_card")[1]
    assert "abgelaufen" in draft("de", "expired_card")[1]
    assert "expiré" in draft("fr", "expired_card")[1]
