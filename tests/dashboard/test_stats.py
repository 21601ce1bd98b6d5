"""dashboard_stats on rows inserted directly, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from recovery.stats import dashboard_stats
from storage.db import Database
from storage.models import CaseStatus, DraftStatus
from tests.dashboard.seed import add_case, add_draft

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


async def test_empty_database(db: Database) -> None:
    stats = await dashboard_stats(db, now=NOW)

    assert stats.generated_at == NOW
    assert stats.open_cases == 0 and stats.total_cases == 0
    assert stats.amount_at_risk == {} and stats.amount_recovered == {}
    assert stats.recovery_rate is None
    assert stats.median_time_to_first_approval is None
    assert stats.median_time_to_payment is None
    assert stats.approve_rate is None and stats.edit_rate is None and stats.reject_rate is None
    assert stats.llm_cost_usd == 0.0
    assert len(stats.daily) == 30
    assert stats.daily[0].day == date(2026, 2, 9) and stats.daily[-1].day == date(2026, 3, 10)
    assert all(p.failures_opened == 0 and p.recovered == {} for p in stats.daily)


async def test_cases_money_and_rate(db: Database) -> None:
    await add_case(db, created_at=NOW - 2 * DAY, segment="vip", amount_due=120_000)
    await add_case(db, created_at=NOW - 2 * DAY, status=CaseStatus.PAUSED, currency="eur")
    await add_case(db, created_at=NOW - DAY, status=CaseStatus.ESCALATED, segment="vip")
    await add_case(db, created_at=NOW - HOUR, segment=None, currency="jpy", amount_due=4900)
    await add_case(db, created_at=NOW - 3 * DAY, status=CaseStatus.PAID, resolved_at=NOW - 2 * DAY)
    await add_case(
        db,
        created_at=NOW - 3 * DAY,
        status=CaseStatus.PAID,
        currency="eur",
        amount_due=2900,
        resolved_at=NOW - DAY,
    )
    await add_case(db, created_at=NOW - 5 * DAY, status=CaseStatus.VOIDED, resolved_at=NOW)
    await add_case(db, created_at=NOW - 5 * DAY, status=CaseStatus.UNCOLLECTIBLE, resolved_at=NOW)
    await add_case(db, created_at=NOW - 5 * DAY, status=CaseStatus.CLOSED, resolved_at=NOW)

    stats = await dashboard_stats(db, now=NOW)

    assert stats.open_cases_by_segment == {"vip": 2, "standard": 1, "unsegmented": 1}
    assert stats.open_cases == 4
    assert stats.amount_at_risk == {"usd": 120_000 + 4900, "eur": 4900, "jpy": 4900}
    assert stats.amount_recovered == {"usd": 4900, "eur": 2900}
    assert stats.cases_by_status == {
        "open": 2,
        "paused": 1,
        "escalated": 1,
        "paid": 2,
        "voided": 1,
        "uncollectible": 1,
        "closed": 1,
    }
    assert stats.recovery_rate == pytest.approx(2 / 9)
    assert stats.median_time_to_payment == timedelta(days=1.5)


async def test_median_time_to_first_approval(db: Database) -> None:
    quick = await add_case(db, created_at=NOW - 10 * HOUR)
    slow = await add_case(db, created_at=NOW - 10 * HOUR)
    slower = await add_case(db, created_at=NOW - 10 * HOUR)
    never = await add_case(db, created_at=NOW - 10 * HOUR)
    # The first approval of a case counts, not later rounds nor other decisions.
    await add_draft(
        db, case_id=quick, created_at=NOW, status=DraftStatus.APPROVED, decided_at=NOW - 9 * HOUR
    )
    await add_draft(
        db, case_id=quick, created_at=NOW, status=DraftStatus.APPROVED, decided_at=NOW - HOUR
    )
    await add_draft(
        db, case_id=slow, created_at=NOW, status=DraftStatus.REJECTED, decided_at=NOW - 9 * HOUR
    )
    await add_draft(
        db, case_id=slow, created_at=NOW, status=DraftStatus.APPROVED, decided_at=NOW - 7 * HOUR
    )
    await add_draft(
        db, case_id=slower, created_at=NOW, status=DraftStatus.APPROVED, decided_at=NOW - 4 * HOUR
    )
    await add_draft(db, case_id=never, created_at=NOW)

    stats = await dashboard_stats(db, now=NOW)

    # 1 h, 3 h, 6 h → median 3 h
    assert stats.median_time_to_first_approval == 3 * HOUR


async def test_decision_rates_sources_and_cost(db: Database) -> None:
    case_id = await add_case(db, created_at=NOW - DAY)
    decided = NOW - HOUR
    for status, edited_by, source, cost in [
        (DraftStatus.APPROVED, None, "ai", 0.0021),
        (DraftStatus.APPROVED, "U0EDITOR", "ai", 0.0019),
        (DraftStatus.APPROVED, None, "template", 0.0),
        (DraftStatus.REJECTED, None, "ai", 0.002),
        (DraftStatus.SUPERSEDED, "U0EDITOR", "ai", 0.001),
    ]:
        await add_draft(
            db,
            case_id=case_id,
            created_at=NOW - DAY,
            status=status,
            decided_at=decided,
            edited_by=edited_by,
            source=source,
            cost_usd=cost,
        )
    await add_draft(db, case_id=case_id, created_at=NOW, source="template")

    stats = await dashboard_stats(db, now=NOW)

    assert (stats.drafts_approved, stats.drafts_rejected, stats.drafts_edited) == (3, 1, 1)
    assert stats.drafts_regenerated == 1
    assert stats.drafts_decided == 4
    assert stats.approve_rate == pytest.approx(0.75)
    assert stats.reject_rate == pytest.approx(0.25)
    assert stats.edit_rate == pytest.approx(0.25)
    assert stats.drafts_by_source == {"ai": 4, "template": 2}
    assert (stats.ai_drafts, stats.template_drafts) == (4, 2)
    assert stats.llm_cost_usd == pytest.approx(0.007)


async def test_daily_series_buckets_by_utc_day(db: Database) -> None:
    today = datetime(2026, 3, 10, 0, 5, tzinfo=UTC)
    await add_case(db, created_at=today)
    await add_case(db, created_at=today - 10 * timedelta(minutes=1))  # 23:55 yesterday
    await add_case(db, created_at=today - 29 * DAY)  # first day of the window
    await add_case(db, created_at=today - 31 * DAY)  # before the window
    await add_case(
        db,
        created_at=today - 40 * DAY,
        status=CaseStatus.PAID,
        amount_due=4900,
        resolved_at=today + HOUR,
    )
    await add_case(
        db,
        created_at=today - 40 * DAY,
        status=CaseStatus.PAID,
        amount_due=1000,
        resolved_at=today + 2 * HOUR,
    )
    await add_case(
        db,
        created_at=today - 40 * DAY,
        status=CaseStatus.PAID,
        currency="eur",
        amount_due=2900,
        resolved_at=today - 3 * DAY,
    )

    stats = await dashboard_stats(db, now=NOW)
    by_day = {point.day: point for point in stats.daily}

    assert len(stats.daily) == 30
    assert by_day[date(2026, 3, 10)].failures_opened == 1
    assert by_day[date(2026, 3, 9)].failures_opened == 1
    assert by_day[date(2026, 2, 9)].failures_opened == 1
    assert sum(p.failures_opened for p in stats.daily) == 3
    assert by_day[date(2026, 3, 10)].recovered == {"usd": 5900}
    assert by_day[date(2026, 3, 7)].recovered == {"eur": 2900}
    assert stats.amount_recovered == {"usd": 5900, "eur": 2900}


async def test_now_defaults_to_the_clock(db: Database) -> None:
    before = datetime.now(UTC)
    stats = await dashboard_stats(db, days=7)
    assert stats.generated_at >= before
    assert len(stats.daily) == 7
    assert stats.daily[-1].day == stats.generated_at.date()
