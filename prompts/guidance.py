"""Plain-English guidance the prompt gives the model per decline reason and stage."""

from __future__ import annotations

DECLINE_GUIDANCE: dict[str, str] = {
    "insufficient_funds": (
        "The bank declined the payment for lack of available funds. Be tactful: never say"
        " 'insufficient funds' bluntly; suggest trying again when convenient or using another"
        " payment method."
    ),
    "expired_card": (
        "The card on file has expired. Suggest updating the payment method on the secure"
        " payment page."
    ),
    "authentication_required": (
        "The bank asked the customer to confirm (authenticate) the payment. Suggest completing"
        " the payment on the secure payment page, where their bank can confirm it."
    ),
    "incorrect_details": (
        "Some payment details on file did not match what the bank expected. Suggest reviewing"
        " or updating the payment method on the secure payment page."
    ),
    "card_not_supported": (
        "The card does not support this kind of purchase or currency. Suggest using another"
        " payment method."
    ),
    "processing_error": (
        "A temporary processing problem occurred; it is not the customer's fault. Reassure them."
    ),
    "generic_decline": (
        "The bank declined the payment without giving a reason. Suggest contacting their bank"
        " or using another payment method."
    ),
    "unknown": "The payment did not go through; the reason is unknown. Stay neutral.",
}

STAGE_GUIDANCE: dict[str, str] = {
    "first": "This is the first failed attempt: a friendly, low-pressure heads-up.",
    "follow_up": "An earlier attempt also failed: a polite, slightly more direct reminder.",
    "final": (
        "This is the final notice: clear and kind, say the subscription may be interrupted if"
        " the invoice stays unpaid. Never say that the payment will be retried."
    ),
}

RETRY_GUIDANCE = {
    True: "The payment will be retried automatically; you may say so.",
    False: "The payment will NOT be retried automatically; never say or imply that it will.",
}


def decline_guidance(category: str) -> str:
    """Guidance for a decline category, neutral when unknown."""
    return DECLINE_GUIDANCE.get(category, DECLINE_GUIDANCE["unknown"])


def stage_guidance(stage: str) -> str:
    """Guidance for an attempt stage, first-attempt tone when unknown."""
    return STAGE_GUIDANCE.get(stage, STAGE_GUIDANCE["first"])
