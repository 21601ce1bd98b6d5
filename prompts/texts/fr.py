"""The deterministic template drafter's French texts."""

from __future__ import annotations

from prompts.texts.model import LocaleTexts

_PAGE = "sur la page sécurisée ci-dessous"

TEXTS = LocaleTexts(
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
            f" cela vous convient ou choisir un autre moyen de paiement {_PAGE}."
        ),
        "expired_card": (
            "La carte enregistrée semble avoir expiré, et vous pouvez ajouter un nouveau moyen"
            f" de paiement {_PAGE}."
        ),
        "authentication_required": (
            "Votre banque demande une confirmation du paiement, ce que vous pouvez faire en une"
            f" minute {_PAGE}."
        ),
        "incorrect_details": (
            "Certaines informations de paiement enregistrées ne correspondent pas à celles de"
            f" votre banque, merci de vérifier votre moyen de paiement {_PAGE}."
        ),
        "card_not_supported": (
            "Votre carte ne semble pas accepter ce type de paiement, un autre moyen de paiement"
            f" {_PAGE} pourrait mieux convenir."
        ),
        "processing_error": (
            "Il s'agit d'un problème de traitement temporaire qui ne vient pas de vous, et vous"
            f" pouvez finaliser le paiement {_PAGE}."
        ),
        "generic_decline": (
            "Votre banque a refusé le paiement sans nous en donner la raison, vous pouvez la"
            f" contacter ou utiliser un autre moyen de paiement {_PAGE}."
        ),
        "unknown": (
            "Nous ne savons pas exactement ce qui s'est passé, mais vous pouvez finaliser le"
            f" paiement {_PAGE}."
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
