"""The rule model: a loaded, checked playbook file."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from recovery.customers.crossings import Crossing
from recovery.plans.model import DEFAULT_PLAN, DunningPlan
from recovery.playbooks.actions import Action
from recovery.playbooks.conditions import Condition

PLAN_TRIGGER = "invoice.payment_failed"  # a rule assigning a plan looks at the failed invoice


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
    def assigns_plan(self) -> bool:
        """An invoice rule choosing the dunning plan of a failed invoice (run by the plans)."""
        return self.triggers == (PLAN_TRIGGER,) and any(
            a.type == "assign_plan" for a in self.actions
        )

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
    plans: tuple[DunningPlan, ...] = ()  # the [[plan]] tables; "default" is implicit

    def rule(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)

    def plan(self, name: str | None) -> DunningPlan | None:
        """A plan by name ("default" always exists); None for an unknown name."""
        if name is None or name == DEFAULT_PLAN.name:
            return DEFAULT_PLAN
        return next((p for p in self.plans if p.name == name), None)

    @property
    def plan_rules(self) -> list[Rule]:
        """Rules assigning a plan to a failed invoice, in file order (the plans run them)."""
        return [r for r in self.rules if r.assigns_plan]

    @property
    def uses_plans(self) -> bool:
        """Some plan retries: failed invoices need a plan decision."""
        return any(p.manages_payments for p in self.plans)

    def triggered_by(self, event_type: str) -> list[Rule]:
        """Rules the playbook runner evaluates for this event type (plan rules are not)."""
        return [r for r in self.rules if event_type in r.triggers and not r.assigns_plan]

    @property
    def customer_rules(self) -> list[Rule]:
        """Rules triggered by a customer's facts (dunbot.customer.*), in file order."""
        return [r for r in self.rules if any(t.startswith("dunbot.customer.") for t in r.triggers)]

    @property
    def event_types(self) -> frozenset[str]:
        return frozenset(t for r in self.rules if not r.assigns_plan for t in r.triggers)


EMPTY_PLAYBOOK = Playbook(rules=(), source="")
