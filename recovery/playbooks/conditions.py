"""Conditions: `field operator value`, parsed from a rule, checked against an event's facts.

amount > "1000.00 USD"          money: compared in minor units, never across currencies
amount > 1000                   the same, with `currency = "usd"` among the conditions
customer.metadata.segment in ["enterprise", "partner"]
charge.refunded = false
customer.email exists
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from recovery.money import format_amount
from recovery.playbooks.facts import UNREAD, Facts, Missing
from recovery.playbooks.fields import FieldError, FieldInfo, resolve_field
from recovery.playbooks.money import (
    Money,
    MoneyError,
    looks_like_money,
    parse_money,
    to_minor_units,
)


class Operator(StrEnum):
    EQ = "="
    NE = "!="
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    IN = "in"
    NOT_IN = "not in"
    CONTAINS = "contains"
    EXISTS = "exists"
    NOT_EXISTS = "not exists"


_ALIASES = {"==": "=", "is": "=", "is not": "!="}
_ORDERING = frozenset({Operator.GT, Operator.GE, Operator.LT, Operator.LE})
_NO_VALUE = frozenset({Operator.EXISTS, Operator.NOT_EXISTS})
_SYNTAX = re.compile(
    r"^\s*(?P<field>[A-Za-z_][\w.\-]*)\s*"
    r"(?P<op>not\s+exists\b|exists\b|not\s+in\b|in\b|contains\b|is\s+not\b|is\b|!=|>=|<=|==|=|>|<)"
    r"\s*(?P<value>.*?)\s*$",
    re.DOTALL,
)


class ConditionError(ValueError):
    """A condition that cannot be read or does not fit its field; the message says why."""


@dataclass(frozen=True, slots=True)
class Condition:
    """One checked condition of a rule."""

    text: str
    field: str
    operator: Operator
    value: Any = None  # str | int | float | bool | list | Money | None
    currency_path: str | None = None  # for money: where the amount's currency is
    by_currency: bool = False  # the field is {currency: amount}
    line: int | None = None


@dataclass(frozen=True, slots=True)
class RawCondition:
    text: str
    field: str
    operator: Operator
    value: Any


def parse_condition(text: str) -> RawCondition:
    """Split 'amount > "1000.00 USD"' into field, operator and a TOML-typed value."""
    match = _SYNTAX.match(text)
    if match is None:
        raise ConditionError(
            f"cannot read condition '{text}': write `field operator value`, "
            'e.g. `amount > "1000.00 USD"` (operators: = != > >= < <= in "not in" contains exists)'
        )
    op_text = " ".join(match["op"].split())
    operator = Operator(_ALIASES.get(op_text, op_text))
    value_text = match["value"]
    if operator in _NO_VALUE:
        if value_text:
            raise ConditionError(f"'{text}': `{operator}` takes no value")
        return RawCondition(text=text, field=match["field"], operator=operator, value=None)
    if not value_text:
        raise ConditionError(f"'{text}': a value is missing after `{operator}`")
    try:
        value = tomllib.loads(f"v = {value_text}")["v"]
    except tomllib.TOMLDecodeError:
        raise ConditionError(
            f"'{text}': cannot read the value {value_text} "
            '(text goes in double quotes: "usd"; lists in brackets: ["a", "b"])'
        ) from None
    if operator in {Operator.IN, Operator.NOT_IN} and not isinstance(value, list):
        raise ConditionError(f'\'{text}\': `{operator}` needs a list, e.g. ["a", "b"]')
    return RawCondition(text=text, field=match["field"], operator=operator, value=value)


def bind_condition(
    raw: RawCondition, *, kinds: list[str], currencies: Mapping[str, str], line: int | None = None
) -> Condition:
    """Check the field against every kind of object the rule's events carry; read money.

    `currencies`: currency conditions of the same rule (`currency = "usd"`), by field path.
    """
    infos: list[FieldInfo] = []
    for kind in kinds:
        try:
            infos.append(resolve_field(raw.field, kind))
        except FieldError as error:
            raise ConditionError(str(error)) from None
    info = infos[0] if infos else FieldInfo(path=raw.field, kind="event")
    is_money = bool(infos) and all(i.money or i.by_currency for i in infos)
    value = raw.value
    if is_money and raw.operator not in _NO_VALUE:
        value = _money_value(raw, info=info, currencies=currencies)
    elif infos and isinstance(value, str) and raw.operator in _ORDERING and looks_like_money(value):
        raise ConditionError(f"'{raw.text}': {raw.field} is not an amount of money")
    if raw.field.endswith("currency") and isinstance(value, str):
        value = value.lower()
    if raw.field.endswith("currency") and isinstance(value, list):
        value = [v.lower() if isinstance(v, str) else v for v in value]
    return Condition(
        text=raw.text,
        field=raw.field,
        operator=raw.operator,
        value=value,
        currency_path=info.currency_path,
        by_currency=info.by_currency,
        line=line,
    )


def _money_value(raw: RawCondition, *, info: FieldInfo, currencies: Mapping[str, str]) -> Any:
    def one(item: Any) -> Money:
        if isinstance(item, str):
            try:
                return parse_money(item)
            except MoneyError as error:
                raise ConditionError(f"'{raw.text}': {error}") from None
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise ConditionError(f"'{raw.text}': {raw.field} is money: write \"1000.00 USD\"")
        currency = currencies.get(info.currency_path or "")
        if currency is None:
            raise ConditionError(
                f"'{raw.text}': a plain number is ambiguous for money: write "
                f'"{item} USD", or add the condition `{info.currency_path or "currency"} = "usd"`'
            )
        try:
            return Money(amount=to_minor_units(Decimal(str(item)), currency), currency=currency)
        except MoneyError as error:
            raise ConditionError(f"'{raw.text}': {error}") from None

    if isinstance(raw.value, list):
        return [one(item) for item in raw.value]
    return one(raw.value)


@dataclass(frozen=True, slots=True)
class Check:
    """The outcome of one condition on one event, with what was actually there."""

    condition: Condition
    passed: bool
    actual: str

    def explain(self) -> str:
        return f"{self.condition.text} — {self.actual}"


def check(condition: Condition, facts: Facts) -> Check:
    """Evaluate one condition; never raises on odd data (a mismatch is a failed check)."""
    value = facts.lookup(condition.field)
    if value is UNREAD:
        return Check(condition, False, f"{condition.field.split('.')[0]} could not be read")
    op = condition.operator
    if op is Operator.EXISTS:
        present = not isinstance(value, Missing) and value not in (None, "", [], {})
        return Check(condition, present, _describe(condition.field, value))
    if op is Operator.NOT_EXISTS:
        absent = isinstance(value, Missing) or value in (None, "", [], {})
        return Check(condition, absent, _describe(condition.field, value))
    if isinstance(condition.value, Money) or (
        isinstance(condition.value, list)
        and condition.value
        and isinstance(condition.value[0], Money)
    ):
        return _check_money(condition, value, facts)
    if isinstance(value, Missing):
        return Check(
            condition, op in {Operator.NE, Operator.NOT_IN}, f"{condition.field} is not set"
        )
    passed = _compare(op, _normalise(condition.field, value), condition.value)
    return Check(condition, passed, _describe(condition.field, value))


def _check_money(condition: Condition, value: Any, facts: Facts) -> Check:
    targets = condition.value if isinstance(condition.value, list) else [condition.value]
    currency = str(targets[0].currency)
    if condition.by_currency:
        amounts = value if isinstance(value, Mapping) else {}
        amount: Any = int(amounts.get(currency, 0))
        actual = f"{condition.field} is {format_amount(amount, currency)}"
    else:
        found = facts.lookup(condition.currency_path or "currency")
        if isinstance(value, Missing) or not isinstance(value, int) or not isinstance(found, str):
            return Check(condition, False, f"{condition.field} is not set")
        if found.lower() != currency:
            return Check(
                condition,
                False,
                f"{condition.field} is in {found.upper()}, the rule speaks of {currency.upper()}",
            )
        amount = value
        actual = f"{condition.field} is {format_amount(amount, currency)}"
    op = condition.operator
    if op in {Operator.IN, Operator.NOT_IN}:
        inside = any(amount == t.amount and t.currency == currency for t in targets)
        return Check(condition, inside == (op is Operator.IN), actual)
    return Check(condition, _compare(op, amount, targets[0].amount), actual)


def _normalise(field: str, value: Any) -> Any:
    return value.lower() if field.endswith("currency") and isinstance(value, str) else value


def _compare(op: Operator, left: Any, right: Any) -> bool:
    try:
        if op is Operator.EQ:
            return bool(_equal(left, right))
        if op is Operator.NE:
            return not _equal(left, right)
        if op is Operator.IN:
            return any(_equal(left, item) for item in right)
        if op is Operator.NOT_IN:
            return not any(_equal(left, item) for item in right)
        if op is Operator.CONTAINS:
            if isinstance(left, str) and isinstance(right, str):
                return right.lower() in left.lower()
            if isinstance(left, list | tuple):
                return any(_equal(item, right) for item in left)
            if isinstance(left, Mapping):
                return right in left
            return False
        if isinstance(left, bool) or isinstance(right, bool):
            return False
        if isinstance(left, str) and isinstance(right, int | float):
            left = float(left)
        if op is Operator.GT:
            return bool(left > right)
        if op is Operator.GE:
            return bool(left >= right)
        if op is Operator.LT:
            return bool(left < right)
        if op is Operator.LE:
            return bool(left <= right)
    except (TypeError, ValueError):
        return False
    return False


def _equal(left: Any, right: Any) -> bool:
    """Equality that lets metadata strings ("true", "12") match TOML booleans and numbers."""
    if isinstance(left, str) and isinstance(right, bool):
        return left.lower() == str(right).lower()
    if isinstance(left, str) and isinstance(right, int | float) and not isinstance(right, bool):
        try:
            return float(left) == float(right)
        except ValueError:
            return False
    return bool(left == right)


def _describe(field: str, value: Any) -> str:
    if isinstance(value, Missing):
        return f"{field} is not set"
    shown = repr(value) if not isinstance(value, dict | list) else "(a list or object)"
    return f"{field} is {shown[:80]}"
