"""`dunbot jobs`: an operator sees dead jobs and their last error."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from storage import queue
from storage.db import Database
from storage.models import Job
from storage.queue import RetryPolicy


async def _make_dead_job(url: str) -> int:
    db = Database(url)
    try:
        async with db.transaction() as session:
            job_id = await queue.enqueue(
                session, kind="send_email", payload={}, dedupe_key="email:42", max_attempts=1
            )
        job = await queue.claim(db, worker_id="w", lease_s=30)
        assert job is not None and job.id == job_id
        state = await queue.fail(
            db, job=job, worker_id="w", error="SMTPDataError: 554 rejected", policy=RetryPolicy()
        )
        assert state == "dead"
        async with db.transaction() as session:  # a healthy job is not listed
            await queue.enqueue(session, kind="draft", payload={}, dedupe_key="draft:1")
        return job_id
    finally:
        await db.dispose()


def test_jobs_lists_a_dead_job_with_its_last_error(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DUNBOT_CONFIG", str(tmp_path / "no-such-dunbot.toml"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()

    empty = runner.invoke(app, ["jobs"])
    assert empty.exit_code == 0, empty.output
    assert "no failed or dead jobs" in empty.output

    job_id = asyncio.run(_make_dead_job(database_url))
    listed = runner.invoke(app, ["jobs"])
    assert listed.exit_code == 0, listed.output
    assert f"#{job_id} send_email dead attempts=1/1" in listed.output
    assert "key=email:42" in listed.output
    assert "SMTPDataError: 554 rejected" in listed.output
    assert "draft" not in listed.output


def test_jobs_retry_runs_a_dead_job_again_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DUNBOT_CONFIG", str(tmp_path / "no-such-dunbot.toml"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    job_id = asyncio.run(_make_dead_job(database_url))
    runner = CliRunner()

    retried = runner.invoke(app, ["jobs", "retry", str(job_id)])
    assert retried.exit_code == 0, retried.output
    assert f"Job #{job_id} is queued to run again." in retried.output
    again = runner.invoke(app, ["jobs", "retry", str(job_id)])
    assert again.exit_code == 1
    assert "not dead (it is queued)" in again.output
    missing = runner.invoke(app, ["jobs", "retry", "999999"])
    assert missing.exit_code == 1 and "no job #999999" in missing.output

    async def status() -> tuple[str, int]:
        db = Database(database_url)
        try:
            async with db.sessions() as session:
                job = await session.get(Job, job_id)
                assert job is not None
                return job.status, job.attempts
        finally:
            await db.dispose()

    assert asyncio.run(status()) == ("queued", 0)
