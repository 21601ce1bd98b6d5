"""The dashboard's playbooks section: each rule with its state, firings and actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.runtime import Runtime
from recovery.playbooks.store import action_counts, firings_since, rule_overrides
from storage.models import PlaybookActionStatus, utcnow

Status = PlaybookActionStatus


@dataclass(frozen=True, slots=True)
class PlaybookRow:
    name: str
    version: str
    state: str  # "on", "off", "dry-run"
    firings_7d: int
    firings_total: int
    done: int
    waiting: int  # pending, awaiting approval
    failed: int  # failed or unknown
    other: int  # rejected, cancelled, dry-run


async def playbook_rows(runtime: Runtime) -> list[PlaybookRow]:
    """One row per rule of the configured playbook (none without a rules file)."""
    if not runtime.playbook.rules:
        return []
    async with runtime.db.sessions() as session:
        overrides = await rule_overrides(session)
        recent = await firings_since(session, since=utcnow() - timedelta(days=7))
        total = await firings_since(session, since=utcnow() - timedelta(days=36_500))
        counts = await action_counts(session)
    rows = []
    for rule in runtime.playbook.rules:
        enabled = overrides.get(rule.name, rule.enabled)
        state = "off" if not enabled else "dry-run" if rule.mode == "dry-run" else "on"
        by_status = counts.get(rule.name, {})

        def total_of(*statuses: str, by_status: dict[str, int] = by_status) -> int:
            return sum(by_status.get(s, 0) for s in statuses)

        rows.append(
            PlaybookRow(
                name=rule.name,
                version=rule.version,
                state=state,
                firings_7d=recent.get(rule.name, 0),
                firings_total=total.get(rule.name, 0),
                done=total_of(Status.DONE),
                waiting=total_of(
                    Status.PENDING, Status.AWAITING_APPROVAL, Status.APPROVED, Status.RUNNING
                ),
                failed=total_of(Status.FAILED, Status.UNKNOWN),
                other=total_of(Status.REJECTED, Status.CANCELLED, Status.DRY_RUN),
            )
        )
    return rows
