"""The deterministic template drafter's English texts."""

from __future__ import annotations

from prompts.texts.model import LocaleTexts

_PAGE = "on the secure page below"

TEXTS = LocaleTexts(
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
            f" or choose another payment method {_PAGE}."
        ),
        "expired_card": (
            "It looks like the card we have on file has expired, and you can add a new payment"
            f" method {_PAGE}."
        ),
        "authentication_required": (
            "Your bank asked for the payment to be confirmed, which you can do in a minute"
            f" {_PAGE}."
        ),
        "incorrect_details": (
            "Some of the payment details on file did not match your bank's records, so please"
            f" review your payment method {_PAGE}."
        ),
        "card_not_supported": (
            "Your card does not seem to support this type of payment, so another payment method"
            f" {_PAGE} may work better."
        ),
        "processing_error": (
            "This was a temporary processing problem and not your fault, and you can complete"
            f" the payment {_PAGE}."
        ),
        "generic_decline": (
            "Your bank declined the payment without giving us a reason, so you may want to check"
            f" with them or use another payment method {_PAGE}."
        ),
        "unknown": (f"We are not sure what went wrong, but you can complete the payment {_PAGE}."),
    },
    retry="We will also try the payment again automatically in a few days.",
    no_retry="If you have any questions, just reply to this email and we will be happy to help.",
    final=(
        "Please settle the invoice soon to keep your subscription active, and reply to this"
        " email if you need any help."
    ),
)
