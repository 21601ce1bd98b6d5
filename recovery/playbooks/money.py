"""Money literals in rules ("1000.00 USD") as Stripe minor units, zero-decimal currencies right."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

from babel.numbers import list_currencies

from recovery.money import format_amount, minor_units_exponent

_MONEY = re.compile(
    r"^\s*(?:(?P<code1>[A-Za-z]{3})\s+(?P<num1>[-\d.,_ ]+)"
    r"|(?P<num2>[-\d.,_ ]+?)\s*(?P<code2>[A-Za-z]{3}))\s*$"
)


class MoneyError(ValueError):
    """A money literal that cannot be read; the message says how to write it."""


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in the currency's minor unit (cents; yen for JPY), currency lower case."""

    amount: int
    currency: str

    def __str__(self) -> str:
        return format_amount(self.amount, self.currency)


@cache
def _known_currencies() -> frozenset[str]:
    return frozenset(code.lower() for code in list_currencies())


def is_currency(code: str) -> bool:
    """True for an ISO 4217 code Babel knows (any case)."""
    return code.lower() in _known_currencies()


def to_minor_units(value: Decimal | int | float, currency: str) -> int:
    """Major units → Stripe's minor units; refuses more decimals than the currency has."""
    exponent = minor_units_exponent(currency)
    scaled = Decimal(str(value)).scaleb(exponent)
    if scaled != scaled.to_integral_value():
        places = "no decimals" if exponent == 0 else f"at most {exponent} decimals"
        raise MoneyError(f"{value} {currency.upper()} has too many decimals ({places})")
    return int(scaled)


def looks_like_money(text: str) -> bool:
    """A string shaped like '1000.00 USD' or 'EUR 15' (the currency may still be unknown)."""
    return bool(_MONEY.match(text)) and any(ch.isdigit() for ch in text)


def parse_money(text: str) -> Money:
    """'1000.00 USD', '1,000 usd', 'EUR 15', '5000 JPY' → Money in minor units."""
    match = _MONEY.match(text)
    if match is None:
        raise MoneyError(f'"{text}" is not an amount: write it as "1000.00 USD"')
    code = (match["code1"] or match["code2"]).lower()
    number = (match["num1"] or match["num2"]).replace(",", "").replace("_", "").replace(" ", "")
    if not is_currency(code):
        raise MoneyError(f'"{text}": {code.upper()} is not a currency code (e.g. USD, EUR, JPY)')
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise MoneyError(f'"{text}" is not an amount: write it as "1000.00 USD"') from None
    return Money(amount=to_minor_units(value, code), currency=code)
