"""The deterministic template drafter's texts: en, fr, de; other locales fall back to en.

Each body is three sentences: an opening for the stage, the reason with what to do, and a
closing (the automatic retry only when one is planned, never on the final notice).
"""

from __future__ import annotations

from dataclasses import dataclass

TEMPLATE_VERSION = "template-v1"


@dataclass(frozen=True)
class LocaleTexts:
    """All template sentences of one language."""

    subjects: dict[str, str]
    openings: dict[str, str]
    reasons: dict[str, str]
    retry: str
    no_retry: str
    final: str


_PAGE_EN = "on the secure page below"
_PAGE_FR = "sur la page sécurisée ci-dessous"
_PAGE_DE = "auf der sicheren Seite unten"

EN = LocaleTexts(
    subjects={
        "first": "Your {company} payment didn't go through",
        "follow_up": "Reminder: your {company} payment is still pending",
        "final": "Final notice: your {company} invoice is still unpaid",
    },
    openings={
        "first": "We tried to collect your latest subscription payment, but it did not go through.",
        "follow_up": "We tried your payment again, but unfortunately it still did not go through.",
        "final": (
            "This is our last reminder about your unpaid invoice, and we would hate for your"
            " service to be interrupted."
        ),
    },
    reasons={
        "insufficient_funds": (
            "Your bank declined the charge this time, so you may want to pay when it suits you"
            f" or choose another payment method {_PAGE_EN}."
        ),
        "expired_card": (
            "It looks like the card we have on file has expired, and you can add a new payment"
            f" method {_PAGE_EN}."
        ),
        "authentication_required": (
            "Your bank asked for the payment to be confirmed, which you can do in a minute"
            f" {_PAGE_EN}."
        ),
        "incorrect_details": (
            "Some of the payment details on file did not match your bank's records, so please"
            f" review your payment method {_PAGE_EN}."
        ),
        "card_not_supported": (
            "Your card does not seem to support this type of payment, so another payment method"
            f" {_PAGE_EN} may work better."
        ),
        "processing_error": (
            "This was a temporary processing problem and not your fault, and you can complete"
            f" the payment {_PAGE_EN}."
        ),
        "generic_decline": (
            "Your bank declined the payment without giving us a reason, so you may want to check"
            f" with them or use another payment method {_PAGE_EN}."
        ),
        "unknown": (
            f"We are not sure what went wrong, but you can complete the payment {_PAGE_EN}."
        ),
    },
    retry="We will also try the payment again automatically in a few days.",
    no_retry="If you have any questions, just reply to this email and we will be happy to help.",
    final=(
        "Please settle the invoice soon to keep your subscription active, and reply to this"
        " email if you need any help."
    ),
)

FR = LocaleTexts(
    subjects={
        "first": "Votre paiement {company} n'a pas abouti",
        "follow_up": "Rappel : votre paiement {company} est toujours en attente",
        "final": "Dernier rappel : votre facture {company} reste impayée",
    },
    openings={
        "first": (
            "Nous avons tenté de prélever votre dernier paiement d'abonnement, mais il n'a pas"
            " abouti."
        ),
        "follow_up": (
            "Nous avons de nouveau tenté votre paiement, mais malheureusement il n'a toujours"
            " pas abouti."
        ),
        "final": (
            "Ceci est notre dernier rappel concernant votre facture impayée, et nous serions"
            " désolés que votre service soit interrompu."
        ),
    },
    reasons={
        "insufficient_funds": (
            "Votre banque a refusé le prélèvement cette fois-ci, vous pouvez donc régler quand"
            f" cela vous convient ou choisir un autre moyen de paiement {_PAGE_FR}."
        ),
        "expired_card": (
            "La carte enregistrée semble avoir expiré, et vous pouvez ajouter un nouveau moyen"
            f" de paiement {_PAGE_FR}."
        ),
        "authentication_required": (
            "Votre banque demande une confirmation du paiement, ce que vous pouvez faire en une"
            f" minute {_PAGE_FR}."
        ),
        "incorrect_details": (
            "Certaines informations de paiement enregistrées ne correspondent pas à celles de"
            f" votre banque, merci de vérifier votre moyen de paiement {_PAGE_FR}."
        ),
        "card_not_supported": (
            "Votre carte ne semble pas accepter ce type de paiement, un autre moyen de paiement"
            f" {_PAGE_FR} pourrait mieux convenir."
        ),
        "processing_error": (
            "Il s'agit d'un problème de traitement temporaire qui ne vient pas de vous, et vous"
            f" pouvez finaliser le paiement {_PAGE_FR}."
        ),
        "generic_decline": (
            "Votre banque a refusé le paiement sans nous en donner la raison, vous pouvez la"
            f" contacter ou utiliser un autre moyen de paiement {_PAGE_FR}."
        ),
        "unknown": (
            "Nous ne savons pas exactement ce qui s'est passé, mais vous pouvez finaliser le"
            f" paiement {_PAGE_FR}."
        ),
    },
    retry="Nous retenterons également le paiement automatiquement dans quelques jours.",
    no_retry=(
        "Pour toute question, il vous suffit de répondre à cet e-mail, nous serons ravis de"
        " vous aider."
    ),
    final=(
        "Merci de régler la facture rapidement pour conserver votre abonnement, et n'hésitez"
        " pas à répondre à cet e-mail si vous avez besoin d'aide."
    ),
)

DE = LocaleTexts(
    subjects={
        "first": "Ihre Zahlung an {company} ist fehlgeschlagen",
        "follow_up": "Erinnerung: Ihre Zahlung an {company} ist noch offen",
        "final": "Letzte Erinnerung: Ihre Rechnung von {company} ist noch offen",
    },
    openings={
        "first": (
            "Wir haben versucht, Ihre letzte Abonnementzahlung einzuziehen, leider hat es nicht"
            " geklappt."
        ),
        "follow_up": (
            "Wir haben Ihre Zahlung erneut versucht, doch leider ist sie wieder nicht"
            " durchgegangen."
        ),
        "final": (
            "Dies ist unsere letzte Erinnerung an Ihre offene Rechnung, und wir möchten ungern,"
            " dass Ihr Dienst unterbrochen wird."
        ),
    },
    reasons={
        "insufficient_funds": (
            "Ihre Bank hat die Abbuchung dieses Mal abgelehnt, Sie können daher zahlen, wann es"
            f" Ihnen passt, oder {_PAGE_DE} eine andere Zahlungsmethode wählen."
        ),
        "expired_card": (
            "Die hinterlegte Karte scheint abgelaufen zu sein, und Sie können"
            f" {_PAGE_DE} eine neue Zahlungsmethode hinterlegen."
        ),
        "authentication_required": (
            "Ihre Bank möchte die Zahlung bestätigt haben, was Sie in einer Minute"
            f" {_PAGE_DE} erledigen können."
        ),
        "incorrect_details": (
            "Einige hinterlegte Zahlungsangaben stimmen nicht mit den Daten Ihrer Bank überein,"
            f" bitte prüfen Sie Ihre Zahlungsmethode {_PAGE_DE}."
        ),
        "card_not_supported": (
            "Ihre Karte unterstützt diese Art von Zahlung anscheinend nicht, daher ist eine"
            f" andere Zahlungsmethode {_PAGE_DE} vielleicht besser geeignet."
        ),
        "processing_error": (
            "Es handelte sich um ein vorübergehendes technisches Problem, das nicht bei Ihnen"
            f" lag, und Sie können die Zahlung {_PAGE_DE} abschließen."
        ),
        "generic_decline": (
            "Ihre Bank hat die Zahlung ohne Angabe von Gründen abgelehnt, daher können Sie sich"
            f" an Ihre Bank wenden oder {_PAGE_DE} eine andere Zahlungsmethode nutzen."
        ),
        "unknown": (
            "Wir wissen nicht genau, was schiefgelaufen ist, aber Sie können die Zahlung"
            f" {_PAGE_DE} abschließen."
        ),
    },
    retry="Wir versuchen die Zahlung außerdem in einigen Tagen automatisch erneut.",
    no_retry="Bei Fragen antworten Sie einfach auf diese E-Mail, wir helfen Ihnen gern.",
    final=(
        "Bitte begleichen Sie die Rechnung bald, damit Ihr Abonnement aktiv bleibt, und"
        " antworten Sie auf diese E-Mail, falls Sie Hilfe brauchen."
    ),
)

TEXTS: dict[str, LocaleTexts] = {"en": EN, "fr": FR, "de": DE}


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
    return subject, " ".join([texts.openings[stage], reason, closing])
