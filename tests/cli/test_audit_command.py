"""`dunbot audit --since 7d [--customer cus_…]`: the audit log, newest first, lines or CSV."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from storage.db import Database
from tests.dashboard.audit_seed import add_entry
from tests.dashboard.seed import add_case


@pytest.fixture
def seeded(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Maya: case opened 3 days ago, approved 2 hours ago, paused 10 days ago; Jonas: rejected."""
    monkeypatch.setenv("DUNBOT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("DATABASE_URL", database_url)

    async def seed() -> str:
        db = Database(database_url)
        now = datetime.now(UTC)
        try:
            maya = await add_case(db, created_at=now, customer_id="cus_maya")
            jonas = await add_case(db, created_at=now, customer_id="cus_jonas")
            for at, actor, action, case_id, customer, detail in [
                (now - timedelta(days=3), "stripe:evt_1", "case_opened", maya, "cus_maya", {}),
                (now - timedelta(days=10), "slack:UAM", "customer_paused", None, "cus_maya",
                 {"reason": "billing dispute"}),
                (now - timedelta(days=1), "slack:UFIN", "draft_rejected", jonas, "cus_jonas",
                 {"reason": "=called instead"}),
                (now - timedelta(hours=2), "slack:UFIN", "draft_approved", maya, "cus_maya", {}),
            ]:  # fmt: skip
                await add_entry(
                    db, at=at, actor=actor, action=action, case_id=case_id,
                    customer_id=customer, **detail,
                )  # fmt: skip
        finally:
            await db.dispose()
        return "cus_maya"

    return asyncio.run(seed())


def test_last_seven_days_newest_first(seeded: str) -> None:
    result = CliRunner().invoke(app, ["audit", "--since", "7d"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split("  ")[1].strip() for line in lines] == [
        "Draft approved",
        "Draft rejected",
        "Case opened",
    ]
    assert "Slack user UFIN" in lines[0] and "(TEST-" in lines[0] and "cus_maya" in lines[0]
    assert lines[1].endswith("reason: =called instead")


def test_one_customer_over_a_longer_span(seeded: str) -> None:
    result = CliRunner().invoke(app, ["audit", "--since", "30d", "--customer", seeded])

    assert result.exit_code == 0, result.output
    assert "Draft rejected" not in result.output
    assert result.output.count("\n") == 3
    assert "Customer paused" in result.output and "reason: billing dispute" in result.output


def test_csv_output_matches_the_dashboard_export(seeded: str) -> None:
    result = CliRunner().invoke(app, ["audit", "--since", "2d", "--csv"])

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [row["action"] for row in rows] == ["draft_approved", "draft_rejected"]
    assert rows[1]["details"] == "reason: =called instead"


def test_nothing_in_the_span_says_so(seeded: str) -> None:
    result = CliRunner().invoke(app, ["audit", "--since", "1h"])

    assert result.exit_code == 0
    assert result.output.startswith("No audit entries since ")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--since", "a week"], "7d, 12h, 2w or 2026-11-01"),
        (["--customer", "Maya"], "customer id (cus_…) or an email address"),
        (["--invoice", "M-1"], "invoice id (in_…)"),
    ],
)
def test_bad_options_say_what_to_write(
    arguments: list[str], message: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/absent.db")

    result = CliRunner().invoke(app, ["audit", *arguments])

    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "absent.db").exists()  # refused before touching any database
