"""The rule model: a loaded, checked playbook file."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from recovery.customers.crossings import Crossing
from recovery.playbooks.actions import Action
from recovery.playbooks.conditions import Condition


class Mode(StrEnum):
    LIVE = "live"
    DRY_RUN = "dry-run"


@dataclass(frozen=True, slots=True)
class Rule:
    """A name, a trigger (any of its event types), AND-ed conditions and ordered actions."""

    name: str
    description: str
    enabled: bool
    mode: Mode
    triggers: tuple[str, ...]
    conditions: tuple[Condition, ...]
    actions: tuple[Action, ...]
    version: str  # a digest of the rule's text: audit entries say which version acted
    line: int | None = None
    crossing: Crossing | None = None  # for dunbot.customer.crossed: the threshold crossed

    @property
    def writes_to_stripe(self) -> tuple[str, ...]:
        """Restricted-key permissions the rule's actions write with."""
        return tuple(
            sorted({a.spec.stripe_write for a in self.actions if a.spec.stripe_write is not None})
        )


@dataclass(frozen=True, slots=True)
class Playbook:
    """All rules of one file, in file order."""

    rules: tuple[Rule, ...]
    source: str = "playbooks.toml"

    def rule(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)

    def triggered_by(self, event_type: str) -> list[Rule]:
        return [r for r in self.rules if event_type in r.triggers]

    @property
    def customer_rules(self) -> list[Rule]:
        """Rules triggered by a customer's facts (dunbot.customer.*), in file order."""
        return [r for r in self.rules if any(t.startswith("dunbot.customer.") for t in r.triggers)]

    @property
    def event_types(self) -> frozenset[str]:
        return frozenset(t for r in self.rules for t in r.triggers)


EMPTY_PLAYBOOK = Playbook(rules=(), source="")
