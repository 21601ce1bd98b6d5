"""Every supported language: the template draft and the email frame around it are in that
language, with money and dates formatted for the locale, and never mixed with English."""

from __future__ import annotations

from datetime import datetime

import pytest

from prompts import SUPPORTED_LANGUAGES, language_name, template_email
from recovery.email_render import FRAMINGS, render_email
from recovery.guardrails import check_draft, find_links

PAY_URL = "https://invoice.stripe.com/i/acct_123/in_abc"

# locale → (a word of the template body, the greeting, the amount, the due date)
EXPECTED = {
    "en-US": ("payment", "Hi Ana Pérez,", "€49.00", "March 3, 2026"),
    "fr-FR": ("paiement", "Bonjour Ana Pérez,", "49,00 €", "3 mars 2026"),
    "de-DE": ("Zahlung", "Hallo Ana Pérez,", "49,00 €", "3. März 2026"),
    "es-ES": ("pago", "Hola, Ana Pérez:", "49,00 €", "3 de marzo de 2026"),
    "it-IT": ("pagamento", "Gentile Ana Pérez,", "49,00 €", "3 marzo 2026"),
    "nl-NL": ("betaling", "Beste Ana Pérez,", "€ 49,00", "3 maart 2026"),
    "pt-PT": ("pagamento", "Olá Ana Pérez,", "49,00 €", "3 de março de 2026"),
    "ja-JP": ("お支払い", "Ana Pérez 様", "€49.00", "2026年3月3日"),
}
ENGLISH_FRAME = [
    "Amount due",
    "Due date",
    "Pay securely",
    "Pay your invoice",
    "Thank you",
    "The Acme team",
]


def test_every_language_has_a_frame_a_template_and_a_prompt_language() -> None:
    assert set(FRAMINGS) == SUPPORTED_LANGUAGES == {locale[:2] for locale in EXPECTED}
    assert {language_name(locale) for locale in EXPECTED} == {
        "English", "French", "German", "Spanish", "Italian", "Dutch", "Portuguese", "Japanese",
    }  # fmt: skip


@pytest.mark.parametrize("locale", list(EXPECTED))
def test_frame_and_template_are_in_the_customers_language(locale: str) -> None:
    word, greeting, amount, date = EXPECTED[locale]
    subject, body = template_email(
        locale=locale,
        decline_category="expired_card",
        stage="first",
        will_retry=True,
        company_name="Acme",
    )
    assert check_draft(subject, body, amount_due=4900, currency="eur") == []
    email = render_email(
        body=body,
        subject=subject,
        customer_name="Ana Pérez",
        amount_due=4900,
        currency="eur",
        due_date=datetime(2026, 3, 3),
        pay_url=PAY_URL,
        locale=locale,
        company_name="Acme",
        from_addr="billing@acme.test",
        to_addr="ana@example.com",
        reply_to=None,
        message_id="<m@acme.test>",
    )
    frame = FRAMINGS[locale[:2]]
    text = email.text_body
    assert word in body and "Acme" in subject
    assert text.startswith(greeting + "\n\n" + body)
    assert frame.amount_due.format(amount=amount) in text
    assert frame.due_date.format(date=date) in text
    assert frame.pay_text.format(url=PAY_URL) in text
    assert text.rstrip().endswith(frame.thanks + "\n" + frame.signature.format(company="Acme"))
    assert frame.pay_button in email.html_body
    assert f'<html lang="{locale[:2]}">' in email.html_body
    assert find_links(text) == [PAY_URL]
    if not locale.startswith("en"):
        english = [phrase for phrase in ENGLISH_FRAME if phrase in text + email.html_body]
        assert english == [], f"{locale} email mixes in English: {english}"
        english_subject = template_email(
            locale="en", decline_category="expired_card", stage="first", will_retry=True,
            company_name="Acme",
        )[0]  # fmt: skip
        assert subject != english_subject


@pytest.mark.parametrize("locale", ["ko-KR", "zh", "xx", None])
def test_other_languages_are_english_throughout(locale: str | None) -> None:
    subject, body = template_email(
        locale=locale, decline_category="unknown", stage="first", will_retry=False,
        company_name="Acme",
    )  # fmt: skip
    assert subject == "Your Acme payment didn't go through"
    assert language_name(locale) == "English"  # the LLM is asked for the frame's language
