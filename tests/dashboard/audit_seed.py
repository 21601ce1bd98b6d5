"""Audit entries at chosen times, as `recovery.audit.record` writes them (plus the time)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.db import Database
from storage.models import AuditEntry


async def add_entry(
    db: Database,
    *,
    at: datetime,
    actor: str,
    action: str,
    case_id: int | None = None,
    customer_id: str | None = None,
    **detail: Any,
) -> int:
    """Insert one entry at `at`. Returns its id."""
    entry = AuditEntry(
        at=at, actor=actor, action=action, case_id=case_id, customer_id=customer_id, detail=detail
    )
    async with db.transaction() as session:
        session.add(entry)
        await session.flush()
        return entry.id
