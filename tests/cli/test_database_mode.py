"""`dunbot demo` never runs on a database `dunbot serve` has used (its sandbox would drain
the pending work), nor on one holding work it did not make."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from storage import queue
from storage.db import Database
from storage.instance import DatabaseMode, read_mode
from storage.migrate import upgrade


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DUNBOT_CONFIG", str(tmp_path / "none.toml"))
    for name in ("STRIPE_API_KEY", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


async def _mode(url: str) -> DatabaseMode | None:
    db = Database(url)
    try:
        return await read_mode(db)
    finally:
        await db.dispose()


async def _enqueue_pending_job(url: str) -> None:
    db = Database(url)
    try:
        async with db.transaction() as session:
            await queue.enqueue(session, kind="notify", payload={"call": "sync_case_cards"})
    finally:
        await db.dispose()


def test_demo_refuses_a_database_serve_has_used(
    env: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    # A missing key stops the worker before it touches the database; with the key it marks
    # the database, then stops on the missing rules file.
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_mode")
    monkeypatch.setenv("PLAYBOOKS_FILE", str(env / "missing.toml"))
    started = CliRunner().invoke(app, ["worker"])
    assert started.exit_code == 2, started.output
    assert "missing.toml" in started.output
    assert asyncio.run(_mode(database_url)) is DatabaseMode.SERVE

    demo = CliRunner().invoke(app, ["demo", "--port", "1"])

    assert demo.exit_code == 2
    assert "`dunbot serve` uses that database" in demo.output
    assert "Unset DATABASE_URL" in demo.output and "Traceback" not in demo.output
    assert asyncio.run(_mode(database_url)) is DatabaseMode.SERVE
    assert not (env / "outbox").exists()


def test_demo_refuses_a_database_holding_work_it_did_not_make(
    env: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    asyncio.run(_enqueue_pending_job(database_url))  # a database from before the mark existed
    monkeypatch.setenv("DATABASE_URL", database_url)

    demo = CliRunner().invoke(app, ["demo", "--port", "1"])

    assert demo.exit_code == 2
    assert "holds events or jobs the demo did not make" in demo.output
    assert asyncio.run(_mode(database_url)) is None


def test_serve_marks_a_fresh_database_only_once_migrated(env: Path) -> None:
    url = f"sqlite+aiosqlite:///{env}/fresh.db"
    upgrade(url)
    result = CliRunner().invoke(
        app,
        ["serve"],
        env={
            "DATABASE_URL": url,
            "STRIPE_API_KEY": "sk_test_mode",
            "PLAYBOOKS_FILE": str(env / "missing.toml"),
        },
    )
    assert result.exit_code == 2  # the rules file is missing: the message, after the mark
    assert asyncio.run(_mode(url)) is DatabaseMode.SERVE
