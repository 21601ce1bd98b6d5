"""GET /dashboard/history and /dashboard/history.csv: behind the token, filtered, escaped."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from bot.history_view import csv_lines
from bot.routes import history
from bot.routes.dashboard import COOKIE_NAME
from recovery.history import HistoryEntry
from storage.db import Database
from storage.models import Case
from tests.dashboard.audit_seed import add_entry
from tests.dashboard.conftest import DASHBOARD_TOKEN, ClientFactory
from tests.dashboard.seed import add_case

AUTH = {"Authorization": f"Bearer {DASHBOARD_TOKEN}"}
HOSTILE = '<script>alert(1)</script> =HYPERLINK("http://evil.example")'


async def _seed(db: Database) -> str:
    """Two customers' entries; returns Maya's invoice id."""
    now = datetime.now(UTC)
    maya = await add_case(db, created_at=now - timedelta(days=3), customer_id="cus_maya")
    jonas = await add_case(db, created_at=now - timedelta(days=3), customer_id="cus_jonas")
    await add_entry(
        db, at=now - timedelta(days=3), actor="stripe:evt_1", action="case_opened",
        case_id=maya, customer_id="cus_maya",
    )  # fmt: skip
    await add_entry(
        db, at=now - timedelta(days=2), actor="slack:UFIN", action="draft_rejected",
        case_id=jonas, customer_id="cus_jonas", reason=HOSTILE,
    )  # fmt: skip
    await add_entry(
        db, at=now - timedelta(hours=2), actor="slack:UFIN", action="draft_approved",
        case_id=maya, customer_id="cus_maya",
    )  # fmt: skip
    await add_entry(
        db, at=now - timedelta(days=40), actor="slack:UAM", action="customer_paused",
        customer_id="cus_maya", reason="old dispute",
    )  # fmt: skip
    async with db.sessions() as session:
        return str(await session.scalar(select(Case.invoice_id).where(Case.id == maya)))


async def test_the_history_needs_the_dashboard_token(client: httpx.AsyncClient) -> None:
    for path in ("/dashboard/history", "/dashboard/history.csv"):
        refused = await client.get(path)
        assert refused.status_code == 401
        assert "Access needed" in refused.text
        wrong = await client.get(path, params={"token": "nope"})
        assert wrong.status_code == 401

    by_token = await client.get("/dashboard/history", params={"token": DASHBOARD_TOKEN})
    assert by_token.status_code == 200
    assert by_token.headers["set-cookie"].startswith(f"{COOKIE_NAME}=")
    assert "path=/dashboard" in by_token.headers["set-cookie"].lower()


async def test_outside_the_demo_without_a_token_it_is_closed(make_client: ClientFactory) -> None:
    response = await make_client().get("/dashboard/history.csv")
    assert response.status_code == 503


async def test_entries_newest_first_with_customer_and_invoice_links(
    client: httpx.AsyncClient, db: Database
) -> None:
    invoice = await _seed(db)

    page = await client.get("/dashboard/history", headers=AUTH)

    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    text = entries_table(page)
    order = [text.index(label) for label in ("Draft approved", "Draft rejected", "Case opened")]
    assert order == sorted(order)
    assert "Customer paused" in text  # 40 days old: shown when no time filter is set
    assert f'href="/dashboard/history?invoice={invoice}"' in text
    assert 'href="/dashboard/history?customer=cus_maya"' in text
    assert "Slack user UFIN" in text
    assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def entries_table(response: httpx.Response) -> str:
    """The page's entries table (the filter form above it lists every action's name)."""
    assert response.status_code == 200
    return response.text[response.text.index('<table class="history"') :]


async def test_filters_select_a_customer_an_invoice_a_time(
    client: httpx.AsyncClient, db: Database
) -> None:
    invoice = await _seed(db)

    maya = await client.get("/dashboard/history?customer=cus_maya", headers=AUTH)
    assert "<h1>History of customer cus_maya</h1>" in maya.text
    assert "Draft approved" in entries_table(maya) and "Customer paused" in entries_table(maya)
    assert "Draft rejected" not in entries_table(maya)

    recent = await client.get("/dashboard/history?customer=cus_maya&since=7d", headers=AUTH)
    assert "Draft approved" in entries_table(recent)
    assert "Customer paused" not in entries_table(recent)

    by_invoice = await client.get(f"/dashboard/history?invoice={invoice}", headers=AUTH)
    assert f"<h1>History of invoice {invoice}</h1>" in by_invoice.text
    assert "Case opened" in entries_table(by_invoice)
    assert "Customer paused" not in entries_table(by_invoice)

    approvals = await client.get("/dashboard/history?action=draft_approved", headers=AUTH)
    assert entries_table(approvals).count('class="history-entry"') == 1


async def test_bad_filters_say_what_to_write(client: httpx.AsyncClient) -> None:
    for params, message in [
        ({"since": "last week"}, "7d, 12h, 2w or 2026-11-01"),
        ({"invoice": "SBX-0004"}, "invoice id (in_…)"),
        ({"customer": "Maya"}, "customer id (cus_…) or an email address"),
        ({"customer": "cus_" + "x" * 300}, "too long"),
        ({"page": "0"}, "whole number"),
    ]:
        response = await client.get("/dashboard/history", params=params, headers=AUTH)
        assert response.status_code == 400, params
        assert message in response.text, params
        csv_response = await client.get("/dashboard/history.csv", params=params, headers=AUTH)
        assert csv_response.status_code == 400 and message in csv_response.text


async def test_csv_export_has_every_matching_entry(
    client: httpx.AsyncClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _seed(db)
    monkeypatch.setattr(history, "CSV_BATCH", 2)  # three entries match: two batches

    response = await client.get("/dashboard/history.csv?since=30d", headers=AUTH)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="dunbot-audit-')
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["action"] for row in rows] == ["draft_approved", "draft_rejected", "case_opened"]
    rejected = rows[1]
    assert rejected["actor"] == "slack:UFIN" and rejected["customer_id"] == "cus_jonas"
    assert rejected["what"] == "Draft rejected"
    assert rejected["details"] == f"reason: {HOSTILE}"
    assert json.loads(rejected["detail_json"]) == {"reason": HOSTILE}


def test_csv_cells_that_look_like_formulas_are_quoted() -> None:
    entry = HistoryEntry(
        id=1,
        at=datetime(2026, 3, 1, tzinfo=UTC),
        actor="-cmd",
        action="draft_rejected",
        case_id=1,
        invoice_id="in_1",
        invoice_number='=HYPERLINK("http://evil.example")',
        customer_id="@SUM(1)",
        customer_name="=cmd|' /C calc'!A0",
        customer_email=None,
        detail={"reason": "+1"},
    )

    row = next(csv.DictReader(io.StringIO(csv_lines([entry], header=True))))

    assert row["invoice_number"] == '\'=HYPERLINK("http://evil.example")'
    assert row["customer_id"] == "'@SUM(1)" and row["actor"] == "'-cmd"
    assert row["customer_name"] == "'=cmd|' /C calc'!A0"
    assert row["details"] == "reason: +1"
