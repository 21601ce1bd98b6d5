"""The deterministic template drafter's Dutch texts."""

from __future__ import annotations

from prompts.texts.model import LocaleTexts

_PAGE = "op de beveiligde pagina hieronder"

TEXTS = LocaleTexts(
    subjects={
        "first": "Uw betaling aan {company} is niet gelukt",
        "follow_up": "Herinnering: uw betaling aan {company} staat nog open",
        "final": "Laatste herinnering: uw factuur van {company} is nog niet betaald",
    },
    openings={
        "first": (
            "We hebben geprobeerd uw laatste abonnementsbetaling te innen, maar dat is niet gelukt."
        ),
        "follow_up": (
            "We hebben uw betaling nogmaals geprobeerd, maar helaas is die weer niet gelukt."
        ),
        "final": (
            "Dit is onze laatste herinnering aan uw openstaande factuur, en we willen niet dat"
            " uw dienst wordt onderbroken."
        ),
    },
    reasons={
        "insufficient_funds": (
            "Uw bank heeft de afschrijving deze keer geweigerd, dus u kunt betalen wanneer het"
            f" u uitkomt of een andere betaalmethode kiezen {_PAGE}."
        ),
        "expired_card": (
            "De opgeslagen kaart lijkt verlopen te zijn, en u kunt een nieuwe betaalmethode"
            f" toevoegen {_PAGE}."
        ),
        "authentication_required": (
            f"Uw bank wil dat u de betaling bevestigt, wat u in een minuut kunt doen {_PAGE}."
        ),
        "incorrect_details": (
            "Sommige opgeslagen betaalgegevens komen niet overeen met die van uw bank, dus"
            f" controleer alstublieft uw betaalmethode {_PAGE}."
        ),
        "card_not_supported": (
            "Uw kaart lijkt dit soort betalingen niet te ondersteunen, dus een andere"
            f" betaalmethode {_PAGE} werkt misschien beter."
        ),
        "processing_error": (
            "Dit was een tijdelijk technisch probleem dat niet aan u lag, en u kunt de betaling"
            f" afronden {_PAGE}."
        ),
        "generic_decline": (
            "Uw bank heeft de betaling zonder opgave van reden geweigerd, dus u kunt contact"
            f" opnemen met uw bank of een andere betaalmethode gebruiken {_PAGE}."
        ),
        "unknown": (
            f"We weten niet precies wat er misging, maar u kunt de betaling afronden {_PAGE}."
        ),
    },
    retry="We proberen de betaling over een paar dagen ook automatisch opnieuw.",
    no_retry="Heeft u vragen, beantwoord dan gewoon deze e-mail, we helpen u graag.",
    final=(
        "Betaal de factuur alstublieft binnenkort om uw abonnement actief te houden, en"
        " beantwoord deze e-mail als u hulp nodig heeft."
    ),
)
