"""GET /healthz says whether dunbot can write: a read-only database is unhealthy."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
from sqlalchemy import select

from bot.app import create_app
from bot.runtime import Runtime
from bot.settings import Settings
from storage.db import Database
from storage.instance import write_heartbeat
from storage.models import InstanceRow


async def _health(url: str) -> httpx.Response:
    db = Database(url)
    app = create_app(Runtime(settings=Settings(database_url=url, environment="test"), db=db))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://dunbot.test"
        ) as http:
            return await http.get("/healthz")
    finally:
        await db.dispose()


async def test_healthz_writes_a_heartbeat(database_url: str) -> None:
    response = await _health(database_url)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    db = Database(database_url)
    try:
        async with db.sessions() as session:
            row = await session.scalar(select(InstanceRow))
    finally:
        await db.dispose()
    assert row is not None and row.heartbeat_at is not None


async def test_a_read_only_database_is_unhealthy(sqlite_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "dunbot.db"
    shutil.copy(sqlite_template, path)
    writable = Database(f"sqlite+aiosqlite:///{path}")
    await write_heartbeat(writable)  # WAL mode set; reads of the read-only copy work
    await writable.dispose()
    read_only = f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"

    response = await _health(read_only)

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "not writable: OperationalError"}
