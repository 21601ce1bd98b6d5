"""Dashboard figures computed from the tables: cases, money at risk and recovered, decisions.

    stats = await dashboard_stats(db)
    stats.amount_recovered  # {"usd": 4900, "eur": 12900}

Definitions (amounts are minor units per currency; currencies are never added together):

- Open cases: status open, paused or escalated (`OPEN_CASE_STATUSES`), counted by segment;
  a case not segmented yet counts as `unsegmented`.
- Amount at risk: sum of `amount_remaining` over open cases. Amount recovered: sum of
  `amount_recovered` over paid cases.
- Recovery rate: paid cases / all cases (paid + voided + uncollectible + closed + open ones).
  A case still open counts as not recovered (yet), so the rate can only rise as open cases
  get paid. None when there are no cases.
- Median time to first approval: per case, from its creation to the earliest `decided_at` of
  its approved drafts, median over cases with an approval. Median time to payment: from
  creation to `resolved_at`, median over paid cases.
- Decisions: a decided draft is an approved or rejected one. Rates are shares of decided
  drafts: approved, rejected, and edited (approved or rejected after a person edited it,
  `edited_by` set). Drafts retired by Regenerate are counted apart (`drafts_regenerated`).
- Drafts by source (`ai` / `template`) and the LLM cost (sum of `cost_usd`) count all drafts.
- Daily series: the last `days` UTC days up to and including today: cases opened that day
  (first failure) and amount recovered that day (paid cases by `resolved_at`), per currency.

Everything is plain SELECTs; medians and day buckets are computed in Python so the same code
runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select

from storage.db import Database
from storage.models import (
    OPEN_CASE_STATUSES,
    Case,
    CaseStatus,
    Draft,
    DraftStatus,
)

UNSEGMENTED = "unsegmented"
DEFAULT_SERIES_DAYS = 30


@dataclass(frozen=True, slots=True)
class DailyPoint:
    """One UTC day of the chart: failures opened and amount recovered per currency."""

    day: date
    failures_opened: int = 0
    recovered: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DashboardStats:
    """Everything the dashboard shows, as of `generated_at` (see the module docstring)."""

    generated_at: datetime
    cases_by_status: dict[str, int]
    open_cases_by_segment: dict[str, int]
    amount_at_risk: dict[str, int]
    amount_recovered: dict[str, int]
    recovery_rate: float | None
    median_time_to_first_approval: timedelta | None
    median_time_to_payment: timedelta | None
    drafts_approved: int
    drafts_rejected: int
    drafts_edited: int
    drafts_regenerated: int
    drafts_by_source: dict[str, int]
    llm_cost_usd: float
    daily: list[DailyPoint]

    @property
    def open_cases(self) -> int:
        """Cases still being recovered (open, paused or escalated)."""
        return sum(self.open_cases_by_segment.values())

    @property
    def total_cases(self) -> int:
        return sum(self.cases_by_status.values())

    @property
    def paid_cases(self) -> int:
        return self.cases_by_status.get(CaseStatus.PAID, 0)

    @property
    def drafts_decided(self) -> int:
        """Approved plus rejected drafts."""
        return self.drafts_approved + self.drafts_rejected

    @property
    def approve_rate(self) -> float | None:
        return _share(self.drafts_approved, self.drafts_decided)

    @property
    def reject_rate(self) -> float | None:
        return _share(self.drafts_rejected, self.drafts_decided)

    @property
    def edit_rate(self) -> float | None:
        return _share(self.drafts_edited, self.drafts_decided)

    @property
    def ai_drafts(self) -> int:
        return self.drafts_by_source.get("ai", 0)

    @property
    def template_drafts(self) -> int:
        return self.drafts_by_source.get("template", 0)


def _share(part: int, whole: int) -> float | None:
    """part / whole, None when there is nothing to divide by."""
    return part / whole if whole else None


def _median(durations: Iterable[timedelta]) -> timedelta | None:
    values = sorted(durations)
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _sums(rows: Iterable[Row[str, Any]]) -> dict[str, int]:
    """(currency, sum) rows to a dict without zeros; PostgreSQL's SUM(bigint) is a Decimal."""
    return {currency: int(total) for currency, total in rows if total}


async def dashboard_stats(
    db: Database, *, now: datetime | None = None, days: int = DEFAULT_SERIES_DAYS
) -> DashboardStats:
    """Compute the dashboard figures from the database, as of `now` (default: the clock)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    first_day = now.date() - timedelta(days=days - 1)
    window_start = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
    open_statuses = [str(status) for status in OPEN_CASE_STATUSES]

    async with db.sessions() as session:
        by_status = dict(
            (await session.execute(select(Case.status, func.count()).group_by(Case.status))).all()
        )
        by_segment = (
            await session.execute(
                select(Case.segment, func.count())
                .where(Case.status.in_(open_statuses))
                .group_by(Case.segment)
            )
        ).all()
        at_risk = (
            await session.execute(
                select(Case.currency, func.sum(Case.amount_remaining))
                .where(Case.status.in_(open_statuses))
                .group_by(Case.currency)
            )
        ).all()
        recovered = (
            await session.execute(
                select(Case.currency, func.sum(Case.amount_recovered))
                .where(Case.status == CaseStatus.PAID)
                .group_by(Case.currency)
            )
        ).all()
        paid_cases = (
            await session.execute(
                select(
                    Case.created_at, Case.resolved_at, Case.currency, Case.amount_recovered
                ).where(Case.status == CaseStatus.PAID)
            )
        ).all()
        first_approvals = (
            await session.execute(
                select(Case.created_at, func.min(Draft.decided_at))
                .join(Draft, Draft.case_id == Case.id)
                .where(Draft.status == DraftStatus.APPROVED, Draft.decided_at.is_not(None))
                .group_by(Case.id, Case.created_at)
            )
        ).all()
        decisions = (
            await session.execute(
                select(Draft.status, Draft.edited_by.is_not(None), func.count())
                .where(
                    Draft.status.in_(
                        [DraftStatus.APPROVED, DraftStatus.REJECTED, DraftStatus.SUPERSEDED]
                    )
                )
                .group_by(Draft.status, Draft.edited_by.is_not(None))
            )
        ).all()
        by_source = dict(
            (await session.execute(select(Draft.source, func.count()).group_by(Draft.source))).all()
        )
        llm_cost = await session.scalar(select(func.coalesce(func.sum(Draft.cost_usd), 0.0)))
        opened_recently = (
            await session.scalars(select(Case.created_at).where(Case.created_at >= window_start))
        ).all()

    counts: Counter[str] = Counter()
    edited = 0
    for status, was_edited, count in decisions:
        counts[status] += count
        if was_edited and status != DraftStatus.SUPERSEDED:
            edited += count

    total = sum(by_status.values())
    return DashboardStats(
        generated_at=now,
        cases_by_status={str(status): int(count) for status, count in by_status.items()},
        open_cases_by_segment={
            str(segment or UNSEGMENTED): int(count) for segment, count in by_segment
        },
        amount_at_risk=_sums(at_risk),
        amount_recovered=_sums(recovered),
        recovery_rate=_share(by_status.get(CaseStatus.PAID, 0), total),
        median_time_to_first_approval=_median(
            decided - created for created, decided in first_approvals if decided is not None
        ),
        median_time_to_payment=_median(
            resolved - created for created, resolved, _, _ in paid_cases if resolved is not None
        ),
        drafts_approved=counts[DraftStatus.APPROVED],
        drafts_rejected=counts[DraftStatus.REJECTED],
        drafts_edited=edited,
        drafts_regenerated=counts[DraftStatus.SUPERSEDED],
        drafts_by_source={str(source): int(count) for source, count in by_source.items()},
        llm_cost_usd=float(llm_cost or 0.0),
        daily=_daily_series(
            first_day=first_day,
            days=days,
            opened=opened_recently,
            paid=[
                (resolved, currency, amount)
                for _, resolved, currency, amount in paid_cases
                if resolved is not None
            ],
        ),
    )


def _daily_series(
    *,
    first_day: date,
    days: int,
    opened: Iterable[datetime],
    paid: Iterable[tuple[datetime, str, int]],
) -> list[DailyPoint]:
    """Bucket case openings and recoveries by UTC day, one point per day (zeros included)."""
    opened_per_day: Counter[date] = Counter(moment.astimezone(UTC).date() for moment in opened)
    recovered_per_day: defaultdict[date, Counter[str]] = defaultdict(Counter)
    for resolved, currency, amount in paid:
        recovered_per_day[resolved.astimezone(UTC).date()][currency] += int(amount)
    series = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        series.append(
            DailyPoint(
                day=day,
                failures_opened=opened_per_day.get(day, 0),
                recovered={c: a for c, a in recovered_per_day.get(day, Counter()).items() if a},
            )
        )
    return series
