"""Playbook rows: on/off overrides, firings (one per rule and event) and their actions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from recovery import audit
from storage.models import (
    FiringStatus,
    PlaybookAction,
    PlaybookActionStatus,
    PlaybookFiring,
    PlaybookRuleState,
    utcnow,
)

OPEN_ACTION_STATUSES = (
    PlaybookActionStatus.PENDING,
    PlaybookActionStatus.AWAITING_APPROVAL,
    PlaybookActionStatus.APPROVED,
)


async def rule_overrides(session: AsyncSession) -> dict[str, bool]:
    """Rules switched on or off by a person, by name."""
    rows = (await session.scalars(select(PlaybookRuleState))).all()
    return {row.rule_name: row.enabled for row in rows}


async def set_rule_enabled(
    session: AsyncSession, *, rule_name: str, enabled: bool, actor: str, version: str
) -> bool:
    """Switch a rule on or off (stored, audited). False when it already was."""
    row = await session.get(PlaybookRuleState, rule_name)
    if row is not None and row.enabled == enabled:
        return False
    if row is None:
        session.add(PlaybookRuleState(rule_name=rule_name, enabled=enabled, changed_by=actor))
    else:
        row.enabled, row.changed_by, row.changed_at = enabled, actor, utcnow()
    await audit.record(
        session,
        actor=actor,
        action="playbook.rule_on" if enabled else "playbook.rule_off",
        rule=rule_name,
        rule_version=version,
    )
    return True


async def insert_firing(
    session: AsyncSession,
    *,
    rule_name: str,
    rule_version: str,
    event_id: str,
    event_type: str,
    subject_id: str | None,
    customer_id: str | None,
    mode: str,
) -> int | None:
    """A new firing's id, or None when this rule already fired for this event."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(PlaybookFiring)
        .values(
            rule_name=rule_name,
            rule_version=rule_version,
            event_id=event_id,
            event_type=event_type,
            subject_id=subject_id,
            customer_id=customer_id,
            mode=mode,
            status=FiringStatus.DRY_RUN if mode == "dry-run" else FiringStatus.ACTING,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["rule_name", "event_id"])
        .returning(PlaybookFiring.id)
    )
    return await session.scalar(statement)


async def firings_since(session: AsyncSession, *, since: datetime) -> dict[str, int]:
    """How many times each rule fired since `since`."""
    rows = await session.execute(
        select(PlaybookFiring.rule_name, func.count(PlaybookFiring.id))
        .where(PlaybookFiring.created_at >= since)
        .group_by(PlaybookFiring.rule_name)
    )
    return {name: int(count) for name, count in rows.all()}


async def actions_of(session: AsyncSession, firing_id: int) -> list[PlaybookAction]:
    query = (
        select(PlaybookAction)
        .where(PlaybookAction.firing_id == firing_id)
        .order_by(PlaybookAction.position)
    )
    return list((await session.scalars(query)).all())


async def cancel_open_actions(
    session: AsyncSession, *, firing_ids: Iterable[int], reason: str
) -> list[int]:
    """Cancel the not-yet-done actions of firings; returns the cancelled action ids."""
    ids = list(firing_ids)
    if not ids:
        return []
    open_ids = list(
        (
            await session.scalars(
                select(PlaybookAction.id).where(
                    PlaybookAction.firing_id.in_(ids),
                    PlaybookAction.status.in_(list(OPEN_ACTION_STATUSES)),
                )
            )
        ).all()
    )
    if open_ids:
        await session.execute(
            update(PlaybookAction)
            .where(PlaybookAction.id.in_(open_ids))
            .values(
                status=PlaybookActionStatus.CANCELLED,
                result=reason,
                version=PlaybookAction.version + 1,
                updated_at=utcnow(),
            )
        )
        await session.execute(
            update(PlaybookFiring)
            .where(PlaybookFiring.id.in_(ids), PlaybookFiring.status == FiringStatus.ACTING)
            .values(status=FiringStatus.CANCELLED, finished_at=utcnow())
        )
    return open_ids


async def acting_firings_of_subject(session: AsyncSession, subject_id: str) -> list[int]:
    """Firings about this subject (an invoice, …) that still have work ahead."""
    rows = await session.scalars(
        select(PlaybookFiring.id).where(
            PlaybookFiring.subject_id == subject_id,
            PlaybookFiring.status == FiringStatus.ACTING,
        )
    )
    return list(rows.all())


def action_detail(action: PlaybookAction) -> dict[str, Any]:
    return dict(action.detail or {})


async def action_counts(session: AsyncSession) -> dict[str, dict[str, int]]:
    """Per rule, how many of its actions are in each status (all time)."""
    rows = await session.execute(
        select(PlaybookFiring.rule_name, PlaybookAction.status, func.count(PlaybookAction.id))
        .join(PlaybookFiring, PlaybookFiring.id == PlaybookAction.firing_id)
        .group_by(PlaybookFiring.rule_name, PlaybookAction.status)
    )
    counts: dict[str, dict[str, int]] = {}
    for rule, status, count in rows.all():
        counts.setdefault(rule, {})[str(status)] = int(count)
    return counts
