"""Shared call rates: a sliding minute and a provider's hold, the same for every process."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from storage import rate_limits
from storage.db import Database
from storage.models import RateLimitCall

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def test_at_most_the_limit_in_any_sliding_minute(db: Database) -> None:
    for second in (0, 10, 20):
        assert (await rate_limits.admit(db, name="llm", limit=3, now=at(second))).admitted
    refused = await rate_limits.admit(db, name="llm", limit=3, now=at(30))
    assert not refused.admitted and refused.reason == "budget"
    assert refused.wait_s == pytest.approx(30)  # the call at 0 s leaves the window at 60 s
    assert not (await rate_limits.admit(db, name="llm", limit=3, now=at(59.9))).admitted
    assert (await rate_limits.admit(db, name="llm", limit=3, now=at(60))).admitted
    assert not (await rate_limits.admit(db, name="llm", limit=3, now=at(65))).admitted


async def test_limits_of_different_names_are_separate(db: Database) -> None:
    assert (await rate_limits.admit(db, name="llm", limit=1, now=T0)).admitted
    assert (await rate_limits.admit(db, name="other", limit=1, now=T0)).admitted
    assert not (await rate_limits.admit(db, name="llm", limit=1, now=T0)).admitted


async def test_two_processes_racing_never_exceed_the_limit(database_url: str) -> None:
    first, second = Database(database_url), Database(database_url)  # two workers' engines
    try:
        results = await asyncio.gather(
            *(
                rate_limits.admit(worker, name="llm", limit=5, now=T0)
                for _ in range(10)
                for worker in (first, second)
            )
        )
        assert sum(result.admitted for result in results) == 5
        async with first.sessions() as session:
            assert await session.scalar(select(func.count(RateLimitCall.id))) == 5
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_hold_stops_every_process_until_it_ends(database_url: str) -> None:
    first, second = Database(database_url), Database(database_url)
    try:
        await rate_limits.hold(first, name="llm", until=at(30))
        await rate_limits.hold(first, name="llm", until=at(10))  # an earlier hold never shortens
        for limit in (0, 100):  # with and without a budget
            held = await rate_limits.admit(second, name="llm", limit=limit, now=at(5))
            assert not held.admitted and held.reason == "provider"
            assert held.wait_s == pytest.approx(25)
        assert (await rate_limits.admit(second, name="llm", limit=100, now=at(30))).admitted
        assert (await rate_limits.admit(second, name="llm", limit=0, now=at(30))).admitted
    finally:
        await first.dispose()
        await second.dispose()


async def test_without_a_budget_nothing_is_written(db: Database) -> None:
    for _ in range(3):
        assert (await rate_limits.admit(db, name="llm", limit=0, now=T0)).admitted
    async with db.sessions() as session:
        assert await session.scalar(select(func.count(RateLimitCall.id))) == 0


async def test_calls_older_than_the_window_are_pruned(db: Database) -> None:
    for second in range(0, 200, 20):
        assert (await rate_limits.admit(db, name="llm", limit=5, now=at(second))).admitted
    async with db.sessions() as session:
        kept = await session.scalar(select(func.count(RateLimitCall.id)))
    assert kept is not None and kept <= 4


async def test_two_processes_taking_slots_at_once_get_distinct_slots_one_interval_apart(
    database_url: str,
) -> None:
    first, second = Database(database_url), Database(database_url)  # two workers' engines
    try:
        slots = await asyncio.gather(
            *(
                rate_limits.take_slot(worker, name="slack_post:C1", interval_s=1.0, now=T0)
                for _ in range(6)
                for worker in (first, second)
            )
        )
        assert sorted(slots) == [at(n) for n in range(12)]
        other = await rate_limits.take_slot(first, name="slack_post:C2", interval_s=1.0, now=T0)
        assert other == T0  # another channel has its own pace
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_far_slot_is_kept_for_its_key_in_any_process(database_url: str) -> None:
    first, second = Database(database_url), Database(database_url)
    try:

        async def take(worker: Database, key: str, now: datetime) -> datetime:
            return await rate_limits.take_slot(
                worker, name="slack_post:C1", interval_s=1.0, now=now, key=key, reserve_beyond_s=1
            )

        assert await take(first, "card:a", T0) == T0
        assert await take(first, "card:b", T0) == at(1)  # near: waited for, not kept
        assert await take(first, "card:c", T0) == at(2)  # far: kept for card:c
        assert await take(first, "card:c", at(0.5)) == at(2)  # back too early: still kept
        assert await take(second, "card:d", at(0.5)) == at(3)
        assert await take(second, "card:c", at(2)) == at(2)  # the other process posts it
        assert await take(second, "card:e", at(2)) == at(4)  # the slot went once
        async with first.sessions() as session:
            kept = await session.scalars(select(RateLimitCall.name).order_by(RateLimitCall.name))
            assert list(kept) == ["slack_post:C1#card:d", "slack_post:C1#card:e"]
    finally:
        await first.dispose()
        await second.dispose()
