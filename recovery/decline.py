"""Stripe decline codes to a small set of plain-words categories (for staff and for the Drafter).

Stripe reports a failed card payment with three codes (https://docs.stripe.com/declines/codes):
`code` (the error, e.g. `card_declined`, `expired_card`), `decline_code` (the issuer's reason,
e.g. `insufficient_funds`, `do_not_honor`) and `advice_code` (what to do next:
`try_again_later`, `do_not_try_again`, `confirm_card_data`). The most specific one wins:
`decline_code`, then `code`; `advice_code=confirm_card_data` refines an unspecific decline into
incorrect details. Reasons that hint at fraud (stolen, lost, fraudulent…) stay a generic decline:
the customer is never told more than "the bank declined it".
"""

from __future__ import annotations

from recovery.domain import DeclineCategory

_C = DeclineCategory

# Issuer decline codes (`decline_code`) and the specific error codes (`code`) share one table:
# Stripe uses several of the same words in both.
_SPECIFIC: dict[str, DeclineCategory] = {
    # money or limits
    "insufficient_funds": _C.INSUFFICIENT_FUNDS,
    "card_velocity_exceeded": _C.INSUFFICIENT_FUNDS,  # balance / credit / amount limit reached
    "withdrawal_count_limit_exceeded": _C.INSUFFICIENT_FUNDS,
    "balance_insufficient": _C.INSUFFICIENT_FUNDS,
    # card no longer valid
    "expired_card": _C.EXPIRED_CARD,
    # customer must authenticate (3D Secure, PIN)
    "authentication_required": _C.AUTHENTICATION_REQUIRED,
    "payment_intent_authentication_failure": _C.AUTHENTICATION_REQUIRED,
    "setup_intent_authentication_failure": _C.AUTHENTICATION_REQUIRED,
    "offline_pin_required": _C.AUTHENTICATION_REQUIRED,
    "online_or_offline_pin_required": _C.AUTHENTICATION_REQUIRED,
    # card details wrong
    "incorrect_cvc": _C.INCORRECT_DETAILS,
    "invalid_cvc": _C.INCORRECT_DETAILS,
    "incorrect_number": _C.INCORRECT_DETAILS,
    "invalid_number": _C.INCORRECT_DETAILS,
    "incorrect_zip": _C.INCORRECT_DETAILS,
    "incorrect_address": _C.INCORRECT_DETAILS,
    "incorrect_pin": _C.INCORRECT_DETAILS,
    "invalid_pin": _C.INCORRECT_DETAILS,
    "pin_try_exceeded": _C.INCORRECT_DETAILS,
    "invalid_expiry_month": _C.INCORRECT_DETAILS,
    "invalid_expiry_year": _C.INCORRECT_DETAILS,
    "invalid_account": _C.INCORRECT_DETAILS,
    "new_account_information_available": _C.INCORRECT_DETAILS,
    # card cannot be used for this kind of payment or currency
    "card_not_supported": _C.CARD_NOT_SUPPORTED,
    "currency_not_supported": _C.CARD_NOT_SUPPORTED,
    "payment_method_currency_mismatch": _C.CARD_NOT_SUPPORTED,
    "payment_method_not_available": _C.CARD_NOT_SUPPORTED,
    "payment_method_unactivated": _C.CARD_NOT_SUPPORTED,
    # temporary trouble at the bank or network: likely to work later
    "processing_error": _C.PROCESSING_ERROR,
    "issuer_not_available": _C.PROCESSING_ERROR,
    "reenter_transaction": _C.PROCESSING_ERROR,
    "try_again_later": _C.PROCESSING_ERROR,
    "approve_with_id": _C.PROCESSING_ERROR,
    "card_decline_rate_limit_exceeded": _C.PROCESSING_ERROR,
    # the bank said no without a usable reason (fraud hints deliberately land here too)
    "generic_decline": _C.GENERIC_DECLINE,
    "card_declined": _C.GENERIC_DECLINE,
    "do_not_honor": _C.GENERIC_DECLINE,
    "do_not_try_again": _C.GENERIC_DECLINE,
    "call_issuer": _C.GENERIC_DECLINE,
    "no_action_taken": _C.GENERIC_DECLINE,
    "not_permitted": _C.GENERIC_DECLINE,
    "service_not_allowed": _C.GENERIC_DECLINE,
    "transaction_not_allowed": _C.GENERIC_DECLINE,
    "restricted_card": _C.GENERIC_DECLINE,
    "duplicate_transaction": _C.GENERIC_DECLINE,
    "invalid_amount": _C.GENERIC_DECLINE,
    "fraudulent": _C.GENERIC_DECLINE,
    "lost_card": _C.GENERIC_DECLINE,
    "stolen_card": _C.GENERIC_DECLINE,
    "pickup_card": _C.GENERIC_DECLINE,
    "merchant_blacklist": _C.GENERIC_DECLINE,
    "security_violation": _C.GENERIC_DECLINE,
    "revocation_of_authorization": _C.GENERIC_DECLINE,
    "revocation_of_all_authorizations": _C.GENERIC_DECLINE,
    "stop_payment_order": _C.GENERIC_DECLINE,
    "testmode_decline": _C.GENERIC_DECLINE,
    "live_mode_test_card": _C.GENERIC_DECLINE,
    "debit_not_authorized": _C.GENERIC_DECLINE,
}

_ADVICE: dict[str, DeclineCategory] = {
    "confirm_card_data": _C.INCORRECT_DETAILS,
}

_DESCRIPTIONS: dict[DeclineCategory, str] = {
    _C.INSUFFICIENT_FUNDS: "The card has insufficient funds or has reached its limit",
    _C.EXPIRED_CARD: "The card has expired",
    _C.AUTHENTICATION_REQUIRED: "The bank asked the customer to confirm the payment",
    _C.INCORRECT_DETAILS: "The card details on file are incorrect",
    _C.CARD_NOT_SUPPORTED: "The card does not support this kind of payment or currency",
    _C.PROCESSING_ERROR: "The bank or card network had a temporary problem",
    _C.GENERIC_DECLINE: "The bank declined the payment without giving a reason",
    _C.UNKNOWN: "The reason for the failed payment is not known",
}


def _normalise(value: str | None) -> str | None:
    """Lower-case and trim a code; empty means absent."""
    if value is None:
        return None
    value = value.strip().lower()
    return value or None


def categorise_decline(
    decline_code: str | None, code: str | None, advice_code: str | None
) -> DeclineCategory:
    """Map Stripe's decline_code / code / advice_code to a DeclineCategory.

    The first specific answer wins: decline_code, then code. A generic decline with
    `advice_code=confirm_card_data` becomes INCORRECT_DETAILS. An unrecognised code still
    means a decline (GENERIC_DECLINE); no codes at all mean UNKNOWN.
    """
    decline, error, advice = _normalise(decline_code), _normalise(code), _normalise(advice_code)
    for candidate in (decline, error):
        category = _SPECIFIC.get(candidate) if candidate else None
        if category is not None and category is not _C.GENERIC_DECLINE:
            return category
    if advice in _ADVICE:
        return _ADVICE[advice]
    if decline or error:
        return _C.GENERIC_DECLINE
    return _C.UNKNOWN


def describe_decline(category: DeclineCategory) -> str:
    """Plain English for staff, e.g. 'The card has expired'."""
    return _DESCRIPTIONS[category]
