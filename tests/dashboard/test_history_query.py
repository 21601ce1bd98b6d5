"""recovery.history: the audit log per customer and per invoice, filtered, newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from recovery.history import (
    HistoryQuery,
    HistoryQueryError,
    action_label,
    audit_history,
    detail_text,
    parse_since,
)
from storage.db import Database
from storage.models import CustomerRow
from tests.dashboard.audit_seed import add_entry
from tests.dashboard.seed import add_case

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


async def _two_customers(db: Database) -> dict[str, int]:
    """Maya (one case, approved then paid, paused once) and Jonas (one case, rejected)."""
    maya = await add_case(db, created_at=NOW - timedelta(days=9), customer_id="cus_maya")
    jonas = await add_case(db, created_at=NOW - timedelta(days=8), customer_id="cus_jonas")
    async with db.transaction() as session:
        session.add(CustomerRow(id="cus_maya", email="Maya.Chen@example.com"))
    entries: list[tuple[int, str, str, int | None, str | None, dict[str, Any]]] = [
        (9, "stripe:evt_1", "case_opened", maya, "cus_maya", {"segment": "standard"}),
        (8, "stripe:evt_2", "case_opened", jonas, "cus_jonas", {}),
        (7, "slack:UFIN", "draft_approved", maya, "cus_maya", {"draft_id": 1}),
        (6, "slack:UFIN", "draft_rejected", jonas, "cus_jonas", {"reason": "called instead"}),
        (5, "slack:UAM", "customer_paused", None, "cus_maya", {"reason": "dispute"}),
        (2, "system:delivery", "email_sent", maya, None, {"outbox_id": 1}),
        (1, "stripe:evt_3", "case_paid", maya, "cus_maya", {"cancelled_jobs": 0}),
    ]
    for days_ago, actor, action, case_id, customer_id, detail in entries:
        await add_entry(
            db,
            at=NOW - timedelta(days=days_ago),
            actor=actor,
            action=action,
            case_id=case_id,
            customer_id=customer_id,
            **detail,
        )
    return {"maya": maya, "jonas": jonas}


async def _actions(db: Database, query: HistoryQuery, **kwargs: Any) -> list[str]:
    async with db.sessions() as session:
        return [e.action for e in await audit_history(session, query=query, **kwargs)]


async def test_a_customers_history_is_newest_first_with_pauses_and_case_entries(
    db: Database,
) -> None:
    await _two_customers(db)

    # The pause has no case; the email entry has no customer id but is of Maya's case.
    assert await _actions(db, HistoryQuery(customer="cus_maya")) == [
        "case_paid",
        "email_sent",
        "customer_paused",
        "draft_approved",
        "case_opened",
    ]
    # By email address, in any case.
    assert await _actions(db, HistoryQuery(customer="maya.chen@EXAMPLE.com")) == await _actions(
        db, HistoryQuery(customer="cus_maya")
    )
    assert await _actions(db, HistoryQuery(customer="nobody@example.com")) == []
    async with db.sessions() as session:
        entries = await audit_history(session, query=HistoryQuery(customer="cus_maya"))
    assert {e.customer_id for e in entries} == {"cus_maya"}  # the email entry's from its case
    pause = next(e for e in entries if e.action == "customer_paused")
    assert pause.customer_email == "Maya.Chen@example.com"  # from what we know of the customer


async def test_an_invoices_history_carries_its_invoice(db: Database) -> None:
    await _two_customers(db)
    async with db.sessions() as session:
        whole = await audit_history(session, query=HistoryQuery())
        jonas_invoice = next(e.invoice_id for e in whole if e.customer_id == "cus_jonas")
        entries = await audit_history(session, query=HistoryQuery(invoice=jonas_invoice))

    assert [e.action for e in entries] == ["draft_rejected", "case_opened"]
    assert {e.customer_email for e in entries} == {entries[0].customer_email} != {None}
    assert {e.invoice_id for e in entries} == {jonas_invoice}
    assert entries[0].invoice_number and entries[0].detail == {"reason": "called instead"}


async def test_filters_narrow_by_time_action_and_actor(db: Database) -> None:
    await _two_customers(db)

    assert await _actions(db, HistoryQuery(since=NOW - timedelta(days=5, hours=1))) == [
        "case_paid",
        "email_sent",
        "customer_paused",
    ]
    assert await _actions(db, HistoryQuery(action="case_opened")) == ["case_opened"] * 2
    assert await _actions(db, HistoryQuery(actor="UFIN")) == ["draft_rejected", "draft_approved"]
    assert await _actions(db, HistoryQuery(actor="%")) == []  # a literal, not a wildcard
    assert await _actions(
        db, HistoryQuery(customer="cus_jonas", action="draft_rejected", actor="slack:")
    ) == ["draft_rejected"]


async def test_pages_continue_after_the_last_entry_shown(db: Database) -> None:
    await _two_customers(db)
    async with db.sessions() as session:
        first = await audit_history(session, query=HistoryQuery(), limit=3)
        rest = await audit_history(session, query=HistoryQuery(), limit=10, older_than=first[-1])
        by_offset = await audit_history(session, query=HistoryQuery(), limit=10, offset=3)

    assert len(first) == 3 and len(rest) == 4
    assert [e.id for e in rest] == [e.id for e in by_offset]
    assert [e.at for e in first + rest] == sorted((e.at for e in first + rest), reverse=True)


async def test_entries_at_the_same_instant_page_without_loss(db: Database) -> None:
    ids = [
        await add_entry(db, at=NOW, actor="system", action="case_opened", customer_id="cus_x")
        for _ in range(5)
    ]
    async with db.sessions() as session:
        first = await audit_history(session, query=HistoryQuery(), limit=2)
        rest = await audit_history(session, query=HistoryQuery(), limit=10, older_than=first[-1])

    assert [e.id for e in first + rest] == sorted(ids, reverse=True)


def test_since_accepts_spans_and_dates_and_says_what_it_wants() -> None:
    assert parse_since("7d", now=NOW) == NOW - timedelta(days=7)
    assert parse_since(" 12H ", now=NOW) == NOW - timedelta(hours=12)
    assert parse_since("2w", now=NOW) == NOW - timedelta(weeks=2)
    assert parse_since("2026-03-01", now=NOW) == datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(HistoryQueryError, match="7d, 12h, 2w or 2026-11-01"):
        parse_since("last week", now=NOW)


def test_subjects_are_customers_emails_or_invoices() -> None:
    assert HistoryQuery.for_subject("in_123").invoice == "in_123"
    assert HistoryQuery.for_subject(" cus_9 ").customer == "cus_9"
    assert HistoryQuery.for_subject("a@b.example").customer == "a@b.example"
    with pytest.raises(HistoryQueryError, match="neither a customer"):
        HistoryQuery.for_subject("pi_123")


def test_entries_read_in_words() -> None:
    assert action_label("draft_approved") == "Draft approved"
    assert action_label("rule_fired_somewhere") == "Rule fired somewhere"
    assert detail_text({"reason": "dispute", "until": "2026-04-01", "draft_id": 3}) == (
        "reason: dispute; until: 2026-04-01"
    )
    assert detail_text({"reason": None, "note": ""}) == ""
    assert detail_text({"until": "2027-01-01T05:59:53.770672+00:00"}) == (
        "until: 2027-01-01 05:59 UTC"
    )
