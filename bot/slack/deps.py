"""What the Slack listeners need from the composition root, and who may do what."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from recovery.playbooks.rules import EMPTY_PLAYBOOK, Playbook
from storage.db import Database


class Role(StrEnum):
    """Who may act; each role's refusal says which setting lists its members."""

    FINANCE = "finance"
    ACCOUNT_MANAGER = "account_manager"
    TEAM = "team"

    @property
    def refusal(self) -> str:
        """The ephemeral answer to someone outside this role."""
        return _REFUSALS[self]


_REFUSALS = {
    Role.FINANCE: "Only the finance approvers (FINANCE_APPROVERS) can do this; nothing changed.",
    Role.ACCOUNT_MANAGER: "Only account managers (ACCOUNT_MANAGERS) can do this; nothing changed.",
    Role.TEAM: "Only finance approvers and account managers can use /dunning.",
}


@dataclass(frozen=True)
class SlackDeps:
    """Settings and the database, as the listeners see them."""

    db: Database
    finance_approvers: frozenset[str]
    account_managers: frozenset[str]
    livemode: bool = True
    company_name: str = ""
    dunning_channels: frozenset[str] = frozenset({"email"})  # what Approve sends
    stripe_dashboard: bool = True  # False with sandbox billing (the demo)
    drafter_follows_instructions: bool = True  # False with the template drafter
    playbook: Playbook = EMPTY_PLAYBOOK

    def members(self, role: Role) -> frozenset[str]:
        """The Slack user ids holding `role`."""
        match role:
            case Role.FINANCE:
                return self.finance_approvers
            case Role.ACCOUNT_MANAGER:
                return self.account_managers
            case Role.TEAM:
                return self.finance_approvers | self.account_managers
