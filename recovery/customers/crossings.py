"""Threshold crossings: `outstanding rises above "1000.00 EUR"`, `rating falls below "B"`,
`avg_delay_days above 25`. A crossing fires once, when the stored previous value was on the
near side of the threshold and the new value is beyond it; staying beyond fires nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from recovery.customers.facts import GRADES, CustomerFacts, grade_rank
from recovery.playbooks.money import Money, MoneyError, parse_money

Direction = Literal["above", "below"]
CROSSING_FIELDS = ("outstanding", "overdue", "avg_delay_days", "failed_90d", "rating")
_SYNTAX = re.compile(
    r"^\s*(?P<field>[a-z_0-9]+)\s+(?:(?:rises|goes|climbs|falls|drops)\s+)?"
    r"(?P<direction>above|below)\s+(?P<value>.+?)\s*$"
)
EXAMPLE = "e.g. 'outstanding above \"1000.00 EUR\"', 'rating falls below \"B\"', " + (
    "'avg_delay_days above 25'"
)


class CrossingError(ValueError):
    """A crossing that cannot be read; the message says what to write."""


@dataclass(frozen=True, slots=True)
class Crossing:
    """A fact, a direction and a threshold (Money, a grade or a number)."""

    text: str
    field: str
    direction: Direction
    threshold: Money | str | float

    def beyond(self, facts: CustomerFacts) -> bool:
        """Whether the facts are past the threshold in the crossing's direction."""
        value = self._value(facts)
        if value is None:
            return False
        limit = self._limit()
        return value > limit if self.direction == "above" else value < limit

    def crossed(self, before: CustomerFacts | None, after: CustomerFacts) -> bool:
        """Fires on the change from not beyond to beyond (never for a customer's first facts)."""
        return before is not None and not self.beyond(before) and self.beyond(after)

    def _limit(self) -> float:
        if isinstance(self.threshold, Money):
            return float(self.threshold.amount)
        if isinstance(self.threshold, str):
            return float(grade_rank(self.threshold))
        return float(self.threshold)

    def _value(self, facts: CustomerFacts) -> float | None:
        if self.field in ("outstanding", "overdue"):
            assert isinstance(self.threshold, Money)
            amounts = facts.outstanding if self.field == "outstanding" else facts.overdue
            return float(amounts.get(self.threshold.currency, 0))
        if self.field == "rating":
            return float(grade_rank(facts.rating))
        if self.field == "avg_delay_days":
            return facts.avg_delay_days
        return float(facts.failed_90d)


def parse_crossing(text: str) -> Crossing:
    """Read a rule's `crossing`; raises CrossingError saying what to write."""
    match = _SYNTAX.match(text)
    if match is None:
        raise CrossingError(
            f"cannot read crossing '{text}': write `fact above|below value`, {EXAMPLE}"
        )
    field, direction, raw = match["field"], match["direction"], match["value"].strip()
    if field not in CROSSING_FIELDS:
        raise CrossingError(
            f"crossing '{text}': {field} is not a fact with a threshold "
            f"(one of {', '.join(CROSSING_FIELDS)})"
        )
    unquoted = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
    threshold: Money | str | float
    if field in ("outstanding", "overdue"):
        try:
            threshold = parse_money(unquoted)
        except MoneyError as error:
            raise CrossingError(f"crossing '{text}': {error}") from None
    elif field == "rating":
        if unquoted.upper() not in GRADES:
            raise CrossingError(f"crossing '{text}': a rating is one of A, B, C, D")
        threshold = unquoted.upper()
    else:
        try:
            threshold = float(unquoted)
        except ValueError:
            raise CrossingError(f"crossing '{text}': {field} needs a number, e.g. 25") from None
    return Crossing(text=text, field=field, direction=direction, threshold=threshold)  # type: ignore[arg-type]
