"""Money formatting: Stripe minor units to text for a locale (zero-decimal currencies right)."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision

# Stripe's zero-decimal currencies: amounts are already in whole units.
ZERO_DECIMAL_CURRENCIES = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()
)


def minor_units_exponent(currency: str) -> int:
    """How many decimals Stripe's minor unit has for this currency."""
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return 0
    return 2


def to_major_units(amount_minor: int, currency: str) -> Decimal:
    """Convert Stripe's integer amount into the currency's major unit."""
    return Decimal(amount_minor).scaleb(-minor_units_exponent(currency))


def format_amount(amount_minor: int, currency: str, locale: str = "en") -> str:
    """Format e.g. 4900 usd → '$49.00' (en), 4900 eur → '49,00 €' (fr), 5000 jpy → '¥5,000'."""
    code = currency.upper()
    value = to_major_units(amount_minor, currency)
    babel_locale = normalise_locale(locale)
    digits = min(get_currency_precision(code), minor_units_exponent(currency))
    pattern_decimals = "0" * digits
    fmt = "¤#,##0" + (f".{pattern_decimals}" if digits else "")
    return format_currency(
        value,
        code,
        locale=babel_locale,
        format=None if digits == 2 else fmt,
        currency_digits=digits == 2,
    )


def normalise_locale(locale: str | None) -> str:
    """Turn Stripe's 'fr-FR' / 'de' / None into a Babel locale id ('fr_FR', 'de', 'en')."""
    if not locale:
        return "en"
    return locale.replace("-", "_")
