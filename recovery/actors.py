"""Who did something: a person through a tool, or dunbot itself. The domain records actors,
the adapters say who they are (`bot/slack/` builds Slack ones)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """`kind` names the tool or source (`slack`, `stripe`, `system`), `id` who within it,
    `display` how people are shown it (e.g. a Slack mention)."""

    kind: str
    id: str
    display: str

    @property
    def audit_name(self) -> str:
        """The stored form in the audit log and on pauses: `kind:id` (e.g. `slack:U123`)."""
        return f"{self.kind}:{self.id}"
