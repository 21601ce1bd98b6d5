"""Which mode uses a database: `serve` (production work) or `demo` (the sandbox).

`dunbot serve` and `dunbot worker` mark the database `serve` at start; `dunbot demo` refuses
a database marked `serve`, or one holding work it did not make: its in-process worker would
take that database's pending jobs into the sandbox, where nobody sees them.
"""

from __future__ import annotations

import asyncio

from storage.db import Database
from storage.instance import DatabaseMode, holds_work, mark_mode, read_mode


class DemoRefused(RuntimeError):  # noqa: N818 - a refusal with the message to show
    """The demo must not run on this database; the message says why and what to do."""


async def _mode_and_work(url: str) -> tuple[DatabaseMode | None, bool]:
    db = Database(url)
    try:
        return await read_mode(db), await holds_work(db)
    finally:
        await db.dispose()


def ensure_demo_may_use(url: str, *, own_file: bool) -> None:
    """Raise DemoRefused unless the demo may use this database (`own_file`: the demo's own
    ./dunbot-demo.db, which may predate the mark)."""
    mode, has_work = asyncio.run(_mode_and_work(url))
    if mode is DatabaseMode.SERVE:
        raise DemoRefused(
            "dunbot demo refuses this DATABASE_URL: `dunbot serve` uses that database, and the "
            "demo's sandbox would take its pending work. Unset DATABASE_URL (the demo then uses "
            "./dunbot-demo.db) or point it at a database of its own."
        )
    if mode is None and has_work and not own_file:
        raise DemoRefused(
            "dunbot demo refuses this DATABASE_URL: the database already holds events or jobs "
            "the demo did not make. Unset DATABASE_URL (the demo then uses ./dunbot-demo.db) "
            "or point it at an empty database."
        )


def mark(url: str, mode: DatabaseMode) -> None:
    """Record that `mode` uses the (migrated) database."""

    async def run() -> None:
        db = Database(url)
        try:
            await mark_mode(db, mode)
        finally:
            await db.dispose()

    asyncio.run(run())
