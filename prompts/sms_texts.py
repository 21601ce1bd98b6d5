"""The SMS the template drafts beside the email: one message with the company, the amount
Stripe says is due and the pay link, per language (the email's languages; English otherwise).

Each language has a long and a short form; the sender picks the first that fits one SMS.
"""

from __future__ import annotations

from prompts.template_texts import template_language

SMS_TEXTS: dict[str, tuple[str, ...]] = {
    "en": (
        "{company}: your payment of {amount} didn't go through. Please pay here: {url}",
        "{company}: payment of {amount} failed. Pay: {url}",
    ),
    "fr": (
        "{company} : votre paiement de {amount} n'a pas abouti. Réglez ici : {url}",
        "{company} : paiement de {amount} refusé. Payer : {url}",
    ),
    "de": (
        "{company}: Ihre Zahlung von {amount} ist fehlgeschlagen. Hier bezahlen: {url}",
        "{company}: Zahlung {amount} fehlgeschlagen. Zahlen: {url}",
    ),
    "es": (
        "{company}: su pago de {amount} no se ha completado. Puede pagar en: {url}",
        "{company}: pago de {amount} fallido. Pagar: {url}",
    ),
    "it": (
        "{company}: il pagamento di {amount} non è andato a buon fine. Paghi qui: {url}",
        "{company}: pagamento {amount} non riuscito. Paga: {url}",
    ),
    "nl": (
        "{company}: uw betaling van {amount} is niet gelukt. Betaal hier: {url}",
        "{company}: betaling {amount} mislukt. Betaal: {url}",
    ),
    "pt": (
        "{company}: o seu pagamento de {amount} não foi concluído. Pague aqui: {url}",
        "{company}: pagamento de {amount} falhou. Pagar: {url}",
    ),
    "ja": (
        "{company}: {amount}のお支払いが完了しませんでした。こちらからお支払いください: {url}",
        "{company}: {amount}未払い {url}",
    ),
}


def sms_variants(*, locale: str | None, company: str, amount: str, url: str) -> list[str]:
    """The SMS texts for the situation, longest first: the customer's language, then English
    (a 70-character UCS-2 message rarely has room for a link)."""
    forms = SMS_TEXTS[template_language(locale)] + SMS_TEXTS["en"]
    name = " ".join(company.split())
    return [form.format(company=name, amount=amount, url=url) for form in dict.fromkeys(forms)]
