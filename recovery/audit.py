"""The audit log: every change of a case or a pause, with who or what did it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    case_id: int | None = None,
    customer_id: str | None = None,
    **detail: Any,
) -> None:
    """Append one entry inside the caller's transaction (actor: 'slack:U123', 'stripe:evt_…')."""
    session.add(
        AuditEntry(
            actor=actor, action=action, case_id=case_id, customer_id=customer_id, detail=detail
        )
    )
