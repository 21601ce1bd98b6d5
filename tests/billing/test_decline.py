"""Stripe decline codes to plain-words categories."""

from __future__ import annotations

import pytest

from recovery.decline import categorise_decline, describe_decline
from recovery.domain import DeclineCategory as C

CASES: list[tuple[str | None, str | None, str | None, C]] = [
    # (decline_code, code, advice_code, expected)
    ("insufficient_funds", "card_declined", "try_again_later", C.INSUFFICIENT_FUNDS),
    ("card_velocity_exceeded", "card_declined", None, C.INSUFFICIENT_FUNDS),
    ("withdrawal_count_limit_exceeded", "card_declined", None, C.INSUFFICIENT_FUNDS),
    ("expired_card", "expired_card", None, C.EXPIRED_CARD),
    (None, "expired_card", None, C.EXPIRED_CARD),
    ("authentication_required", "card_declined", None, C.AUTHENTICATION_REQUIRED),
    (None, "authentication_required", None, C.AUTHENTICATION_REQUIRED),
    (None, "payment_intent_authentication_failure", None, C.AUTHENTICATION_REQUIRED),
    ("online_or_offline_pin_required", "card_declined", None, C.AUTHENTICATION_REQUIRED),
    ("incorrect_cvc", "incorrect_cvc", None, C.INCORRECT_DETAILS),
    ("incorrect_number", "card_declined", None, C.INCORRECT_DETAILS),
    (None, "invalid_expiry_year", None, C.INCORRECT_DETAILS),
    ("incorrect_zip", "card_declined", None, C.INCORRECT_DETAILS),
    ("pin_try_exceeded", "card_declined", None, C.INCORRECT_DETAILS),
    ("card_not_supported", "card_declined", None, C.CARD_NOT_SUPPORTED),
    ("currency_not_supported", "card_declined", None, C.CARD_NOT_SUPPORTED),
    ("processing_error", "processing_error", None, C.PROCESSING_ERROR),
    ("issuer_not_available", "card_declined", "try_again_later", C.PROCESSING_ERROR),
    ("try_again_later", "card_declined", None, C.PROCESSING_ERROR),
    ("generic_decline", "card_declined", None, C.GENERIC_DECLINE),
    ("do_not_honor", "card_declined", "do_not_try_again", C.GENERIC_DECLINE),
    ("call_issuer", "card_declined", None, C.GENERIC_DECLINE),
    ("fraudulent", "card_declined", None, C.GENERIC_DECLINE),
    ("stolen_card", "card_declined", "do_not_try_again", C.GENERIC_DECLINE),
    ("lost_card", "card_declined", None, C.GENERIC_DECLINE),
    ("transaction_not_allowed", "card_declined", None, C.GENERIC_DECLINE),
    (None, "card_declined", None, C.GENERIC_DECLINE),
    # a generic decline refined by the advice code
    ("generic_decline", "card_declined", "confirm_card_data", C.INCORRECT_DETAILS),
    (None, "card_declined", "confirm_card_data", C.INCORRECT_DETAILS),
    # the more specific code wins over a generic decline_code
    ("generic_decline", "expired_card", None, C.EXPIRED_CARD),
    # unknown but present codes still mean the bank said no
    ("some_future_code", None, None, C.GENERIC_DECLINE),
    (None, "some_future_error", None, C.GENERIC_DECLINE),
    # case and whitespace do not matter
    (" Insufficient_Funds ", None, None, C.INSUFFICIENT_FUNDS),
    # nothing to go on
    (None, None, None, C.UNKNOWN),
    ("", "", "", C.UNKNOWN),
    (None, None, "try_again_later", C.UNKNOWN),
]


@pytest.mark.parametrize(("decline_code", "code", "advice_code", "expected"), CASES)
def test_categorise_decline(
    decline_code: str | None, code: str | None, advice_code: str | None, expected: C
) -> None:
    assert categorise_decline(decline_code, code, advice_code) is expected


@pytest.mark.parametrize("category", list(C))
def test_every_category_has_plain_words(category: C) -> None:
    text = describe_decline(category)
    assert text[0].isupper() and "_" not in text


def test_descriptions_read_as_plain_english() -> None:
    assert describe_decline(C.INSUFFICIENT_FUNDS).startswith("The card has insufficient funds")
    assert describe_decline(C.EXPIRED_CARD) == "The card has expired"
