"""Shared fixtures: a fresh migrated database per test on SQLite and, when configured,
PostgreSQL (DUNBOT_TEST_POSTGRES_URL, e.g. from scripts/start-postgres.sh)."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from storage.db import Database
from storage.migrate import upgrade

# The fake servers (stripe_api, fake_slack, smtp, fake_twilio) as fixtures everywhere.
pytest_plugins = ["tests.support.servers"]

POSTGRES_URL = os.environ.get("DUNBOT_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", *(["postgres"] if POSTGRES_URL else [])]
REPO_ROOT = Path(__file__).resolve().parents[1]


def _plain_pg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _pg_url_for(database: str) -> str:
    assert POSTGRES_URL
    base, _, _ = POSTGRES_URL.rpartition("/")
    return f"{base}/{database}"


async def _pg_admin(*statements: str) -> None:
    assert POSTGRES_URL
    connection = await asyncpg.connect(_plain_pg_dsn(POSTGRES_URL))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """One migrated PostgreSQL database, cloned with CREATE DATABASE … TEMPLATE per test."""
    if not POSTGRES_URL:
        pytest.fail("DUNBOT_TEST_POSTGRES_URL is not set")
    name = f"dunbot_tpl_{os.getpid()}"
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'))
    upgrade(_pg_url_for(name))
    yield name
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, migrated database for this test."""
    if request.param == "sqlite":
        path = tmp_path / "dunbot.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    template = request.getfixturevalue("postgres_template")
    name = f"dunbot_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield _pg_url_for(name)
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgres"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()
