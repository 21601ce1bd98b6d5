"""What the dashboard page shows, as text and chart geometry: DashboardStats → template data.

Pure functions, no I/O: the route fetches `DashboardStats` and renders `dashboard.html` with
`build_view(stats)`. Charts are drawn server-side as inline SVG from the geometry built here.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from recovery.money import format_amount, minor_units_exponent
from recovery.stats import DailyPoint, DashboardStats

_LOCALE = "en"
SEGMENT_LABELS = {"vip": "VIP", "standard": "Standard", "unsegmented": "Not segmented yet"}
STATUS_LABELS = {
    "open": "Open",
    "paused": "Paused",
    "escalated": "Escalated",
    "paid": "Paid",
    "voided": "Voided",
    "uncollectible": "Uncollectible",
    "closed": "Closed",
}


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True, slots=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True, slots=True)
class BarChart:
    """An SVG bar chart's geometry: a viewBox, bars, y gridlines and x labels."""

    id: str
    title: str
    summary: str
    width: int
    height: int
    plot_left: int
    plot_top: int
    plot_right: int
    plot_bottom: int
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class DayRow:
    day: str
    failures_opened: int
    recovered: str


@dataclass(frozen=True, slots=True)
class DashboardView:
    """Everything `dashboard.html` renders, already formatted."""

    generated_at: str
    recovered: list[str]
    at_risk: list[str]
    open_cases: int
    open_cases_note: str
    recovery_rate: str
    recovery_rate_note: str
    segments: list[Row]
    statuses: list[Row]
    timings: list[Row]
    decisions: list[Row]
    drafting: list[Row]
    charts: list[BarChart]
    days: list[DayRow]
    series_days: int


def money_list(amounts: dict[str, int]) -> list[str]:
    """{'usd': 4900, 'eur': 2900} → ['€29.00', '$49.00'] by currency code; ['—'] if empty.

    Currencies are listed side by side, never added up nor ranked against each other.
    """
    if not amounts:
        return ["—"]
    return [format_amount(amounts[currency], currency, _LOCALE) for currency in sorted(amounts)]


def percent(rate: float | None) -> str:
    """0.754 → '75%'; None → '—'."""
    return "—" if rate is None else f"{rate:.0%}"


def duration(value: timedelta | None) -> str:
    """A short human duration: '45 min', '3 h 20 min', '2 d 4 h'; None → '—'."""
    if value is None:
        return "—"
    minutes = max(0, round(value.total_seconds() / 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def usd_cost(cost: float) -> str:
    """LLM spend: '$1.25', or four decimals below a cent ('$0.0042')."""
    if 0 < cost < 0.01:
        return f"${cost:.4f}"
    return f"${cost:,.2f}"


def nice_step(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^k that is ≥ value (at least 1): a tidy gridline step."""
    if value <= 1:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 5):
        if step * 10**exponent >= value:
            return step * 10**exponent
    return 10 ** (exponent + 1)


def axis_top(max_value: float, *, min_step: float = 1, gridlines: int = 4) -> float:
    """The y axis maximum: `gridlines` tidy steps covering `max_value` (steps ≥ `min_step`)."""
    step = max(nice_step(max_value / gridlines), min_step)
    return step * gridlines


def bar_chart(
    *,
    id: str,
    title: str,
    summary: str,
    points: Sequence[DailyPoint],
    value: Callable[[DailyPoint], int],
    describe: Callable[[DailyPoint, int], str],
    label_value: Callable[[float], str],
    min_step: float = 1,
    width: int = 720,
    height: int = 220,
) -> BarChart:
    """One bar per day; the y axis runs from 0 to a tidy maximum with four gridlines."""
    left, top, right, bottom = 76, 12, width - 24, height - 28
    values = [value(point) for point in points]
    top_value = axis_top(max(values, default=0), min_step=min_step)
    slot = (right - left) / max(len(points), 1)
    bars = []
    for index, (point, amount) in enumerate(zip(points, values, strict=True)):
        bar_height = (bottom - top) * amount / top_value
        bars.append(
            Bar(
                x=round(left + index * slot + slot * 0.15, 2),
                y=round(bottom - bar_height, 2),
                width=round(slot * 0.7, 2),
                height=round(bar_height, 2),
                title=describe(point, amount),
            )
        )
    y_ticks = [
        Tick(
            position=round(bottom - (bottom - top) * step / 4, 2),
            label=label_value(top_value * step / 4),
        )
        for step in range(5)
    ]
    x_ticks = [
        Tick(position=round(left + index * slot + slot / 2, 2), label=_short_day(point))
        for index, point in enumerate(points)
        if (len(points) - 1 - index) % 7 == 0
    ]
    return BarChart(
        id=id,
        title=title,
        summary=summary,
        width=width,
        height=height,
        plot_left=left,
        plot_top=top,
        plot_right=right,
        plot_bottom=bottom,
        bars=bars,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
    )


def _short_day(point: DailyPoint) -> str:
    return f"{point.day:%b} {point.day.day}"


def _count_label(value: float) -> str:
    return f"{value:g}"


def _axis_money(amount: float, currency: str) -> str:
    """An axis label: '$1,500' rather than '$1,500.00' for whole amounts."""
    text = format_amount(round(amount), currency, _LOCALE)
    return text.removesuffix(".00")


def _main_currency(points: Sequence[DailyPoint], stats: DashboardStats) -> str | None:
    """The currency with the most recovered in the window, else overall, else None."""
    window: Counter[str] = Counter()
    for point in points:
        window.update(point.recovered)
    totals = window or Counter(stats.amount_recovered)
    if not totals:
        return None
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))[0][0]


def _charts(stats: DashboardStats) -> list[BarChart]:
    points = stats.daily
    days = len(points)
    opened = sum(point.failures_opened for point in points)
    charts = [
        bar_chart(
            id="chart-failures",
            title=f"Failed payments per day, last {days} days",
            summary=f"{opened} failed invoices opened a case in the last {days} days.",
            points=points,
            value=lambda point: point.failures_opened,
            describe=lambda point, n: f"{_short_day(point)}: {n} failed payment{'s' * (n != 1)}",
            label_value=_count_label,
        )
    ]
    currency = _main_currency(points, stats)
    if currency is not None:
        recovered = sum(point.recovered.get(currency, 0) for point in points)
        others = sorted({c for point in points for c in point.recovered} - {currency})
        note = f" Other currencies ({', '.join(c.upper() for c in others)}) are in the table."
        charts.append(
            bar_chart(
                id="chart-recovered",
                title=f"Recovered per day in {currency.upper()}, last {days} days",
                summary=(
                    f"{format_amount(recovered, currency, _LOCALE)} recovered in the last "
                    f"{days} days." + (note if others else "")
                ),
                points=points,
                value=lambda point: point.recovered.get(currency, 0),
                describe=lambda point, amount: (
                    f"{_short_day(point)}: {format_amount(amount, currency, _LOCALE)} recovered"
                ),
                label_value=lambda amount: _axis_money(amount, currency),
                min_step=10 ** minor_units_exponent(currency),
            )
        )
    return charts


def build_view(stats: DashboardStats) -> DashboardView:
    """Format the figures for the page (English, amounts in their own currency)."""
    segments = stats.open_cases_by_segment
    segment_note = ", ".join(
        f"{count} {SEGMENT_LABELS.get(segment, segment)}"
        for segment, count in sorted(segments.items(), key=lambda item: (-item[1], item[0]))
    )
    statuses = [
        Row(label, str(stats.cases_by_status.get(status, 0)))
        for status, label in STATUS_LABELS.items()
    ]
    return DashboardView(
        generated_at=f"{stats.generated_at:%d %b %Y, %H:%M} UTC",
        recovered=money_list(stats.amount_recovered),
        at_risk=money_list(stats.amount_at_risk),
        open_cases=stats.open_cases,
        open_cases_note=segment_note or "No open cases",
        recovery_rate=percent(stats.recovery_rate),
        recovery_rate_note=f"{stats.paid_cases} of {stats.total_cases} cases paid",
        segments=[
            Row(SEGMENT_LABELS.get(segment, segment), str(segments.get(segment, 0)))
            for segment in [*SEGMENT_LABELS, *sorted(set(segments) - set(SEGMENT_LABELS))]
            if segment != "unsegmented" or segments.get(segment)
        ],
        statuses=statuses,
        timings=[
            Row("Failure to first approval", duration(stats.median_time_to_first_approval)),
            Row("Failure to payment", duration(stats.median_time_to_payment)),
        ],
        decisions=[
            Row("Drafts decided", str(stats.drafts_decided)),
            Row("Approved", f"{percent(stats.approve_rate)} ({stats.drafts_approved})"),
            Row(
                "Edited before the decision", f"{percent(stats.edit_rate)} ({stats.drafts_edited})"
            ),
            Row("Rejected", f"{percent(stats.reject_rate)} ({stats.drafts_rejected})"),
            Row("Regenerated", str(stats.drafts_regenerated)),
        ],
        drafting=[
            Row("Written by the AI model", str(stats.ai_drafts)),
            Row("Template (no AI)", str(stats.template_drafts)),
            Row("LLM cost, all drafts", usd_cost(stats.llm_cost_usd)),
        ],
        charts=_charts(stats),
        days=[
            DayRow(
                day=f"{point.day:%a} {_short_day(point)}",
                failures_opened=point.failures_opened,
                recovered=", ".join(money_list(point.recovered)),
            )
            for point in reversed(stats.daily)
        ],
        series_days=len(stats.daily),
    )
