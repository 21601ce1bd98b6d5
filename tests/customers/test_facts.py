"""Customer facts from a hand-built invoice history."""

from __future__ import annotations

import pytest

from recovery.customers.facts import RatingConfig, compute_facts, payment_rating
from tests.customers.history import NOW, open_invoice, paid


def test_delay_rating_and_outstanding_per_currency_from_an_invoice_history() -> None:
    history = [
        paid("in_1", amount=10000, due_days_ago=200, paid_days_ago=190),  # 10 days late
        paid("in_2", amount=10000, due_days_ago=100, paid_days_ago=70),  # 30 days late
        paid("in_3", amount=10000, due_days_ago=50, paid_days_ago=52),  # early: counts as 0
        paid("in_old", amount=5000, due_days_ago=500, paid_days_ago=400),  # over 12 months
        open_invoice("in_4", amount=4900, due_days_ago=3, attempts=2),  # overdue, 2 failures
        open_invoice("in_5", amount=2500, currency="usd"),  # not yet due
    ]
    facts = compute_facts(history, now=NOW)
    assert facts.avg_delay_days == pytest.approx(13.3)  # (10 + 30 + 0) / 3
    assert facts.outstanding == {"eur": 4900, "usd": 2500}
    assert facts.overdue == {"eur": 4900}
    assert facts.failed_90d == 2
    assert facts.ltv == {"eur": 35000}
    assert facts.open_invoices == 2
    assert facts.rating == "C"  # delay 13.3 → B, two failures → C: the worse counts


def test_rating_bounds_are_configurable_and_the_worse_grade_counts() -> None:
    assert payment_rating(avg_delay_days=None, failed_90d=0) == "A"
    assert payment_rating(avg_delay_days=31, failed_90d=0) == "D"
    strict = RatingConfig.parse(delay_days="1,2,3", failed_payments="0,0,0")
    assert payment_rating(avg_delay_days=2, failed_90d=0, config=strict) == "B"
    assert payment_rating(avg_delay_days=0, failed_90d=1, config=strict) == "D"


@pytest.mark.parametrize("text", ["5,15", "30,15,5", "a,b,c", "-1,2,3"])
def test_bad_rating_bounds_say_what_to_write(text: str) -> None:
    with pytest.raises(ValueError, match="three rising bounds"):
        RatingConfig.parse(delay_days=text, failed_payments="0,1,3")
