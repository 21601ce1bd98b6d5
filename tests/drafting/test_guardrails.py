"""Guardrails: every rule, in English, French and German, plus property tests."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recovery.guardrails import check_draft, count_sentences, luhn_valid

GOOD_BODY = (
    "We could not collect your latest payment. You can complete it on the secure page below."
)


def check(
    body: str,
    *,
    subject: str = "Your payment did not go through",
    amount_due: int = 4900,
    currency: str = "usd",
) -> list[str]:
    return check_draft(subject, body, amount_due=amount_due, currency=currency)


def test_good_draft_passes() -> None:
    assert check(GOOD_BODY) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("One sentence. Two sentences! Three sentences? Four sentences.", "4 sentences"),
        ("Too short.", "too short"),
        ("word " * 130, "too long"),
    ],
)
def test_body_shape(body: str, expected: str) -> None:
    assert any(expected in reason for reason in check(body))


@pytest.mark.parametrize(
    ("subject", "expected"),
    [("", "subject is empty"), ("x" * 121, "121 characters"), ("Hi\nBcc: a@b", "more than one")],
)
def test_subject_shape(subject: str, expected: str) -> None:
    assert any(expected in reason for reason in check(GOOD_BODY, subject=subject))


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example/pay",
        "http://10.0.0.1/x",
        "www.evil.com",
        "evil.com/pay",
        "pay-now.co.uk",
        "support@evil.com",
        "ｅｖｉｌ．ｃｏｍ",  # full-width look-alike
        "münchen.de",
        "192.168.0.1",
        "javascript:alert(1)",
        "evil-pay。com",  # ideographic full stop
        "evil-pay．com",  # full-width full stop
        "evil-pay｡com",  # half-width ideographic full stop
        "pay.evil-pay。com/now",
        "support@evil｡com",
    ],
)
def test_any_link_is_rejected(link: str) -> None:
    reasons = check(f"Please settle the invoice at {link} today so nothing is interrupted.")
    assert any("link" in reason for reason in reasons), reasons


@pytest.mark.parametrize(
    "body",
    [
        "Please reply with your card number so we can fix this quickly.",
        "Send us the CVV printed on your card to confirm the payment.",
        "Share the 3-digit security code so we can finish the charge.",
        "Tell us your PIN and we will take care of the rest.",
        "Please confirm your password to keep the subscription active.",
        "Log in with your online banking details and send a screenshot.",
        "Reply with the verification code you received by text message.",
        "Please reply with your card details to settle the invoice.",
        "Email us the expiry date of your card so we can retry.",
        "Merci de nous communiquer le numéro de votre carte pour régulariser.",
        "Indiquez-nous le cryptogramme visuel au dos de votre carte.",
        "Envoyez-nous votre mot de passe pour réactiver le compte.",
        "Répondez avec vos coordonnées bancaires pour finaliser le paiement.",
        "Merci de nous transmettre le code reçu par SMS pour confirmer.",
        "Bitte senden Sie uns Ihre Kartennummer für die Zahlung.",
        "Nennen Sie uns die Prüfziffer auf der Rückseite Ihrer Karte.",
        "Bitte teilen Sie uns Ihr Passwort und Ihre Zugangsdaten mit.",
        "Bitte schicken Sie uns Ihre Kartendaten per E-Mail zurück.",
        "Bitte geben Sie den Bestätigungscode aus der SMS an.",
        "Senden Sie uns bitte die TAN, damit wir die Zahlung abschließen.",
    ],
)
def test_requests_for_secrets_are_rejected(body: str) -> None:
    assert any("sensitive" in reason for reason in check(body)), body


@pytest.mark.parametrize(
    "body",
    [
        "Your card on file has expired, so you can add a new one on the secure page below.",
        "Please update your payment details on the secure page below when convenient.",
        "Votre carte a expiré, vous pouvez la mettre à jour sur la page sécurisée ci-dessous.",
        "Bitte prüfen Sie Ihre Zahlungsmethode auf der sicheren Seite unten.",
    ],
)
def test_harmless_payment_wording_passes(body: str) -> None:
    assert check(body) == []


@pytest.mark.parametrize(
    "number",
    [
        "4242 4242 4242 4242",
        "4242-4242-4242-4242",
        "378282246310005",
        "6011111111111117",
        "4242.4242.4242.4242",
        "4242/4242/4242/4242",
        "4242_4242_4242_4242",
        "4242 / 4242 . 4242-4242",
        "4242\n4242\n4242\n4242",
        "４２４２．４２４２．４２４２．４２４２",  # full-width digits and dots
    ],
)
def test_known_card_numbers_are_rejected(number: str) -> None:
    reasons = check(f"Your card {number} was declined by the bank today.")
    assert any("card number" in reason for reason in reasons)
    assert not any(number in reason for reason in reasons), "never echo card data"


def _with_luhn_digit(prefix: str) -> str:
    for digit in "0123456789":
        if luhn_valid(prefix + digit):
            return prefix + digit
    raise AssertionError("unreachable")


@given(
    prefix=st.text(alphabet="0123456789", min_size=12, max_size=18),
    separator=st.sampled_from(["", " ", "-"]),
)
def test_any_embedded_luhn_number_is_caught(prefix: str, separator: str) -> None:
    number = _with_luhn_digit(prefix)
    spaced = separator.join(number[i : i + 4] for i in range(0, len(number), 4))
    reasons = check(f"We noticed the number {spaced} on file, sorry about the trouble.")
    assert any("card number" in reason for reason in reasons)


_SEPARATOR_CHARS = " -./\\_,:;|+*~=·•–—\u00a0\u3000\t"


@given(
    prefix=st.text(alphabet="0123456789", min_size=12, max_size=18),
    group=st.integers(min_value=1, max_value=6),
    separators=st.lists(
        st.text(alphabet=_SEPARATOR_CHARS, min_size=1, max_size=3), min_size=18, max_size=18
    ),
)
def test_luhn_number_with_any_separators_between_groups_is_caught(
    prefix: str, group: int, separators: list[str]
) -> None:
    number = _with_luhn_digit(prefix)
    groups = [number[i : i + group] for i in range(0, len(number), group)]
    hidden = groups[0] + "".join(sep + g for sep, g in zip(separators, groups[1:], strict=False))
    reasons = check(f"We noticed the number {hidden} on file, sorry about the trouble.")
    assert any("card number" in reason for reason in reasons), (hidden, reasons)


_LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12).filter(
    lambda label: label[0] != "-" and label[-1] != "-"
)
_TLD = st.sampled_from(["com", "io", "net", "co", "pay", "xyz", "ｃｏｍ", "ＩＯ"])
_DOT = st.sampled_from([".", "。", "．", "｡", "﹒"])


@given(labels=st.lists(_LABEL, min_size=1, max_size=3), tld=_TLD, dot=_DOT)
def test_a_domain_with_any_dot_look_alike_is_caught(labels: list[str], tld: str, dot: str) -> None:
    domain = dot.join([*labels, tld])
    reasons = check(f"Please settle the invoice at {domain} today so nothing is interrupted.")
    assert any("link" in reason for reason in reasons), (domain, reasons)


def test_japanese_prose_with_ideographic_full_stops_is_not_a_link() -> None:
    body = "お支払いが完了しませんでした。下のページからお支払いください。"
    assert not any("link" in reason for reason in check(body))


@pytest.mark.parametrize(
    ("subject", "body", "where"),
    [
        ("Your payment", "We could not collect\x00 your payment, please use the page.", "body"),
        ("Your\x00 payment", GOOD_BODY, "subject"),
        ("Your payment", "We could not collect your payment\x07, please use the page.", "body"),
        ("Your payment", "We could not collect your payment\ud800, please use the page.", "body"),
    ],
)
def test_control_characters_are_refused_with_a_clear_reason(
    subject: str, body: str, where: str
) -> None:
    reasons = check(body, subject=subject)
    assert any(reason.startswith(where) and "character (U+" in reason for reason in reasons)


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80))
def test_any_nul_anywhere_is_refused(text: str) -> None:
    reasons = check(f"{GOOD_BODY[:30]}{text}\x00{GOOD_BODY[30:]}")
    assert any("NUL character" in reason for reason in reasons)


WORDS = [
    "we", "are", "sorry", "your", "payment", "did", "not", "go", "through", "please",
    "update", "method", "on", "the", "secure", "page", "below", "thank", "you", "kindly",
    "nous", "sommes", "désolés", "votre", "paiement", "leider", "Ihre", "Zahlung", "bitte",
]  # fmt: skip

sentence = st.lists(st.sampled_from(WORDS), min_size=3, max_size=12).map(
    lambda words: " ".join(words).capitalize() + "."
)


@given(st.lists(sentence, min_size=1, max_size=3))
def test_plain_sentences_without_digits_pass(sentences: list[str]) -> None:
    body = " ".join(sentences)
    if len(body) < 20:
        body = body + " Thank you for your patience."
        sentences.append("x")
    reasons = check(body)
    assert reasons == [] or (len(sentences) > 3 and reasons == ["body has 4 sentences (max 3)"])


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("Your invoice of $49.00 is still open.", 4900, "usd"),
        ("Your invoice of USD 49 is still open.", 4900, "usd"),
        ("Votre facture de 49,00 € reste ouverte.", 4900, "eur"),
        ("Ihre Rechnung über 1.234,56 € ist offen.", 123456, "eur"),
        ("Votre facture de 1 234,56 € reste ouverte.", 123456, "eur"),
        ("Your invoice of ¥5,000 is still open.", 5000, "jpy"),
        ("Your invoice of 5000 yen is still open.", 5000, "jpy"),
    ],
)
def test_the_invoice_amount_is_allowed(text: str, amount: int, currency: str) -> None:
    assert (
        check(f"{text} Please pay on the page below.", amount_due=amount, currency=currency) == []
    )


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("Your invoice of $59.00 is still open.", 4900, "usd"),
        ("Your invoice of €49.00 is still open.", 4900, "usd"),
        ("Votre facture de 490,00 € reste ouverte.", 4900, "eur"),
        ("Ihre Rechnung über 49 EUR ist offen, zahlen Sie 5 Euro extra.", 4900, "eur"),
        ("Your invoice of ¥50,000 is still open.", 5000, "jpy"),
        ("A late fee of £10 applies.", 4900, "gbp"),
    ],
)
def test_a_different_amount_is_rejected(text: str, amount: int, currency: str) -> None:
    reasons = check(f"{text} Please pay on the page below.", amount_due=amount, currency=currency)
    assert any("amount" in reason for reason in reasons), reasons


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("Please pay <b>today</b> on the page below.", "markup"),
        ("Please pay *today* on the page below.", "markup"),
        ("Please pay _today_ on the page below.", "markup"),
        ("Please pay `today` on the page below.", "markup"),
        ("Please pay [here](somewhere) on the page below.", "markup"),
        ("Hey <@U123ABC>, please pay on the page below.", "markup"),
        ("Hey <!channel>, please pay on the page below.", "markup"),
        ("Dear {{ name }}, please pay on the page below.", "placeholder"),
        ("Dear {name}, please pay on the page below.", "placeholder"),
        ("Dear [Name], please pay on the page below.", "placeholder"),
        ("Dear %s, please pay on the page below.", "placeholder"),
    ],
)
def test_markup_and_placeholders_are_rejected(body: str, kind: str) -> None:
    assert any(kind in reason for reason in check(body)), check(body)


def test_sentence_counter_ignores_decimals_and_counts_fragments() -> None:
    assert count_sentences("It costs 49.00 today. Thanks") == 2


def test_the_senders_own_name_may_look_like_a_domain() -> None:
    body = "Your Acme.io payment did not go through, please use the page below."
    assert any("link" in reason for reason in check(body))
    allowed = check_draft("Acme.io payment", body, amount_due=1, currency="usd",
                          allowed_terms=["Acme.io"])  # fmt: skip
    assert allowed == []
    evil = "Your Acme.io payment failed, pay at evil.com instead."
    assert check_draft("Hi", evil, amount_due=1, currency="usd", allowed_terms=["Acme.io"])
