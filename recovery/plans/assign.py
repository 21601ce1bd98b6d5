"""Which plan a failed invoice follows: the customer's plan, else the first invoice rule that
matches, else `default` (Stripe's own retries, dunbot's usual cadence)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from recovery.plans.model import DEFAULT_PLAN, DunningPlan
from recovery.playbooks.evaluate import first_failure
from recovery.playbooks.facts import EventFacts
from recovery.playbooks.rules import PLAN_TRIGGER, Playbook, Rule

ReadFacts = Callable[[EventFacts, list[Rule]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PlanChoice:
    """The plan, who chose it (for the audit log and the card) and the rules it overrode."""

    plan: DunningPlan
    chosen_by: str
    overridden: tuple[str, ...] = ()


def invoice_facts(invoice: Mapping[str, Any]) -> EventFacts:
    """The failed invoice as a payment_failed event's facts (conditions see its fields)."""
    event = {"type": PLAN_TRIGGER, "data": {"object": dict(invoice)}}
    return EventFacts.from_event(event, kind="invoice")


def matching_plan_rules(
    playbook: Playbook, facts: EventFacts, *, enabled: Callable[[Rule], bool]
) -> list[Rule]:
    """Plan rules whose conditions all hold, in file order."""
    return [r for r in playbook.plan_rules if enabled(r) and first_failure(r, facts) is None]


def choose_plan(
    playbook: Playbook,
    *,
    matched: list[Rule],
    customer_plan: str | None,
    customer_plan_rule: str | None,
) -> PlanChoice:
    """The customer's plan (a customer rule's assign_plan) wins over invoice rules; among
    invoice rules the first in the file wins, as for every other assignment."""
    invoice_rules = tuple(r.name for r in matched)
    if customer_plan is not None:
        plan = playbook.plan(customer_plan)
        if plan is not None:
            by = f'customer rule "{customer_plan_rule}"' if customer_plan_rule else "customer"
            return PlanChoice(plan=plan, chosen_by=by, overridden=invoice_rules)
    for rule in matched:
        name = next(a.params["plan"] for a in rule.actions if a.type == "assign_plan")
        plan = playbook.plan(str(name))
        if plan is not None:
            return PlanChoice(
                plan=plan, chosen_by=f'rule "{rule.name}"', overridden=invoice_rules[1:]
            )
    return PlanChoice(plan=DEFAULT_PLAN, chosen_by="no rule (default)")
