"""Rules at a glance for Slack (`/dunning rules`, the App Home): on/off, mode, firings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.slack.mrkdwn import escape_inline
from recovery.playbooks.rules import Mode, Playbook
from recovery.playbooks.store import firings_since, rule_overrides
from storage.models import utcnow

WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class RuleLine:
    name: str
    version: str
    enabled: bool
    overridden: bool
    dry_run: bool
    firings: int
    description: str


async def rule_lines(session: AsyncSession, playbook: Playbook) -> list[RuleLine]:
    """Each rule with its current on/off (overrides included) and firings in 7 days."""
    overrides = await rule_overrides(session)
    counts = await firings_since(session, since=utcnow() - WINDOW)
    return [
        RuleLine(
            name=rule.name,
            version=rule.version,
            enabled=overrides.get(rule.name, rule.enabled),
            overridden=rule.name in overrides and overrides[rule.name] != rule.enabled,
            dry_run=rule.mode is Mode.DRY_RUN,
            firings=counts.get(rule.name, 0),
            description=rule.description,
        )
        for rule in playbook.rules
    ]


def line_text(line: RuleLine) -> str:
    state = "on" if line.enabled else "off"
    extras = []
    if line.dry_run:
        extras.append("dry-run")
    if line.overridden:
        extras.append("switched in Slack")
    extra = f" ({', '.join(extras)})" if extras else ""
    plural = "" if line.firings == 1 else "s"
    return (
        f"{'🟢' if line.enabled else '⚪'} *{escape_inline(line.name)}* — {state}{extra} — "
        f"{line.firings} firing{plural} in 7 days"
    )


async def rules_text(session: AsyncSession, playbook: Playbook) -> str:
    """The `/dunning rules` reply."""
    lines = await rule_lines(session, playbook)
    if not lines:
        return "No playbook rules (set PLAYBOOKS_FILE; see docs/playbooks.md)."
    return "*Playbook rules*\n" + "\n".join(line_text(line) for line in lines)
