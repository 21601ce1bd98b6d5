"""The deterministic template drafter's German texts."""

from __future__ import annotations

from prompts.texts.model import LocaleTexts

_PAGE = "auf der sicheren Seite unten"

TEXTS = LocaleTexts(
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
            f" Ihnen passt, oder {_PAGE} eine andere Zahlungsmethode wählen."
        ),
        "expired_card": (
            "Die hinterlegte Karte scheint abgelaufen zu sein, und Sie können"
            f" {_PAGE} eine neue Zahlungsmethode hinterlegen."
        ),
        "authentication_required": (
            "Ihre Bank möchte die Zahlung bestätigt haben, was Sie in einer Minute"
            f" {_PAGE} erledigen können."
        ),
        "incorrect_details": (
            "Einige hinterlegte Zahlungsangaben stimmen nicht mit den Daten Ihrer Bank überein,"
            f" bitte prüfen Sie Ihre Zahlungsmethode {_PAGE}."
        ),
        "card_not_supported": (
            "Ihre Karte unterstützt diese Art von Zahlung anscheinend nicht, daher ist eine"
            f" andere Zahlungsmethode {_PAGE} vielleicht besser geeignet."
        ),
        "processing_error": (
            "Es handelte sich um ein vorübergehendes technisches Problem, das nicht bei Ihnen"
            f" lag, und Sie können die Zahlung {_PAGE} abschließen."
        ),
        "generic_decline": (
            "Ihre Bank hat die Zahlung ohne Angabe von Gründen abgelehnt, daher können Sie sich"
            f" an Ihre Bank wenden oder {_PAGE} eine andere Zahlungsmethode nutzen."
        ),
        "unknown": (
            "Wir wissen nicht genau, was schiefgelaufen ist, aber Sie können die Zahlung"
            f" {_PAGE} abschließen."
        ),
    },
    retry="Wir versuchen die Zahlung außerdem in einigen Tagen automatisch erneut.",
    no_retry="Bei Fragen antworten Sie einfach auf diese E-Mail, wir helfen Ihnen gern.",
    final=(
        "Bitte begleichen Sie die Rechnung bald, damit Ihr Abonnement aktiv bleibt, und"
        " antworten Sie auf diese E-Mail, falls Sie Hilfe brauchen."
    ),
)
