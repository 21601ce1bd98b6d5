"""Facts about the database itself: which mode uses it (serve or demo), and a heartbeat row.

`dunbot serve` and `dunbot worker` mark the database `serve`; `dunbot demo` refuses such a
database (its sandbox would drain real work). `/healthz` upserts the heartbeat row: a cheap
write that fails when the database cannot be written.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.models import Case, InstanceRow, Job, StripeEventRow, utcnow

INSTANCE_ROW_ID = 1


class DatabaseMode(StrEnum):
    SERVE = "serve"
    DEMO = "demo"


def _has_instance_table(connection: Connection) -> bool:
    return inspect(connection).has_table(InstanceRow.__tablename__)


async def read_mode(db: Database) -> DatabaseMode | None:
    """The mode the database was marked with; None when never marked (or not migrated)."""
    async with db.engine.connect() as connection:
        if not await connection.run_sync(_has_instance_table):
            return None
        mode = await connection.scalar(
            select(InstanceRow.mode).where(InstanceRow.id == INSTANCE_ROW_ID)
        )
    return DatabaseMode(mode) if mode else None


async def holds_work(db: Database) -> bool:
    """True when the database holds events, jobs or cases (not a fresh database)."""
    async with db.engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        for model in (StripeEventRow, Job, Case):
            if (
                model.__tablename__ in names
                and await connection.scalar(select(model.id).limit(1)) is not None
            ):
                return True
    return False


async def mark_mode(db: Database, mode: DatabaseMode) -> None:
    """Record which mode uses the database (the latest one wins)."""
    await _upsert(db, mode=str(mode), marked_at=utcnow())


async def write_heartbeat(db: Database) -> None:
    """One small write: raises when the database cannot be written to."""
    await _upsert(db, heartbeat_at=utcnow())


async def _upsert(db: Database, **values: object) -> None:
    insert = postgresql.insert if not db.is_sqlite else sqlite.insert
    statement = insert(InstanceRow).values(id=INSTANCE_ROW_ID, **values)
    statement = statement.on_conflict_do_update(index_elements=["id"], set_=values)
    async with db.transaction() as session:
        await session.execute(statement)
