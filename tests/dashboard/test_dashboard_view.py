"""Formatting and chart geometry of the dashboard page (pure functions)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.dashboard_view import axis_top, build_view, duration, money_list, percent, usd_cost
from recovery.stats import DailyPoint, DashboardStats


def _stats(**overrides: Any) -> DashboardStats:
    fields: dict[str, Any] = {
        "generated_at": datetime(2026, 3, 10, 15, 0, tzinfo=UTC),
        "cases_by_status": {"open": 2, "paid": 1},
        "open_cases_by_segment": {"standard": 1, "vip": 1},
        "amount_at_risk": {"usd": 4900, "jpy": 4900},
        "amount_recovered": {"usd": 4900},
        "recovery_rate": 1 / 3,
        "median_time_to_first_approval": timedelta(hours=2, minutes=5),
        "median_time_to_payment": None,
        "drafts_approved": 3,
        "drafts_rejected": 1,
        "drafts_edited": 1,
        "drafts_regenerated": 0,
        "drafts_by_source": {"ai": 3, "template": 1},
        "llm_cost_usd": 0.0042,
        "daily": [
            DailyPoint(day=date(2026, 3, 1) + timedelta(days=i), failures_opened=i % 3)
            for i in range(9)
        ]
        + [DailyPoint(day=date(2026, 3, 10), failures_opened=2, recovered={"usd": 4900})],
    }
    fields.update(overrides)
    return DashboardStats(**fields)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        (timedelta(seconds=20), "0 min"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(hours=3), "3 h"),
        (timedelta(hours=3, minutes=20), "3 h 20 min"),
        (timedelta(days=2), "2 d"),
        (timedelta(days=2, hours=4, minutes=10), "2 d 4 h"),
    ],
)
def test_duration(value: timedelta | None, text: str) -> None:
    assert duration(value) == text


def test_percent_money_and_cost() -> None:
    assert percent(None) == "—" and percent(0.754) == "75%" and percent(1.0) == "100%"
    assert money_list({}) == ["—"]
    assert money_list({"usd": 4900, "eur": 2900, "jpy": 5000}) == ["€29.00", "¥5,000", "$49.00"]
    assert usd_cost(0) == "$0.00" and usd_cost(0.0042) == "$0.0042" and usd_cost(12.5) == "$12.50"


@pytest.mark.parametrize(
    ("max_value", "min_step", "top"),
    [
        (0, 1, 4),
        (3, 1, 4),
        (4, 1, 4),
        (5, 1, 8),
        (9, 1, 20),
        (177_900, 100, 200_000),
        (0, 100, 400),
    ],
)
def test_axis_top_is_four_tidy_steps(max_value: int, min_step: int, top: int) -> None:
    assert axis_top(max_value, min_step=min_step) == top


def test_view_formats_the_figures_and_draws_bars() -> None:
    view = build_view(_stats())

    assert view.generated_at == "10 Mar 2026, 15:00 UTC"
    assert view.recovered == ["$49.00"]
    assert view.at_risk == ["¥4,900", "$49.00"]
    assert (view.open_cases, view.open_cases_note) == (2, "1 Standard, 1 VIP")
    assert (view.recovery_rate, view.recovery_rate_note) == ("33%", "1 of 3 cases paid")
    assert [(row.label, row.value) for row in view.timings] == [
        ("Failure to first approval", "2 h 5 min"),
        ("Failure to payment", "—"),
    ]
    failures, recovered = view.charts
    assert len(failures.bars) == 10
    assert [tick.label for tick in failures.y_ticks] == ["0", "1", "2", "3", "4"]
    tallest = max(failures.bars, key=lambda bar: bar.height)
    assert tallest.height == pytest.approx((failures.plot_bottom - failures.plot_top) / 2)
    assert failures.bars[0].height == 0
    assert failures.bars[-1].title == "Mar 10: 2 failed payments"
    assert recovered.title == "Recovered per day in USD, last 10 days"
    assert recovered.bars[-1].title == "Mar 10: $49.00 recovered"
    assert [tick.label for tick in recovered.y_ticks][-1] == "$80"
    assert view.days[0].day == "Tue Mar 10" and view.days[0].recovered == "$49.00"


def test_view_without_recoveries_has_one_chart() -> None:
    view = build_view(_stats(amount_recovered={}, daily=[DailyPoint(day=date(2026, 3, 10))]))
    assert [chart.id for chart in view.charts] == ["chart-failures"]
    assert view.recovered == ["—"]
