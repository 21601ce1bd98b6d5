"""Money literals in rules: minor units, zero-decimal currencies, clear errors."""

from __future__ import annotations

import pytest

from recovery.playbooks.money import Money, MoneyError, parse_money


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1000.00 USD", Money(100000, "usd")),
        ("1,000 usd", Money(100000, "usd")),
        ("EUR 15", Money(1500, "eur")),
        ("15.5 EUR", Money(1550, "eur")),
        ("5000 JPY", Money(5000, "jpy")),  # zero-decimal: yen are the minor unit
        ("1 KRW", Money(1, "krw")),
    ],
)
def test_money_literals_become_minor_units(text: str, expected: Money) -> None:
    assert parse_money(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1000 dollars", 'write it as "1000.00 USD"'),
        ("12 XYZ", "XYZ is not a currency code"),
        ("1.5 JPY", "too many decimals (no decimals)"),
        ("10.001 EUR", "at most 2 decimals"),
        ("USD", 'write it as "1000.00 USD"'),
    ],
)
def test_bad_money_says_how_to_write_it(text: str, message: str) -> None:
    with pytest.raises(MoneyError, match=".*") as error:
        parse_money(text)
    assert message in str(error.value)
