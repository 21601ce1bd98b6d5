"""Evaluating rules on an event: which match, the first failed condition of the others, and
what each action would do (for `dunbot rules test`, replay and the live runner alike)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from recovery.money import format_amount
from recovery.playbooks.actions import Action
from recovery.playbooks.conditions import Check, check
from recovery.playbooks.durations import parse_duration
from recovery.playbooks.facts import EventFacts, Facts, Missing
from recovery.playbooks.fields import reference_kinds
from recovery.playbooks.rules import Playbook, Rule
from recovery.playbooks.templates import Escape, render


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """One rule's verdict on one event."""

    rule: Rule
    matched: bool
    failed: Check | None = None  # the first condition that did not hold
    off: bool = False  # switched off (in the file or by an override)


def evaluate(
    playbook: Playbook,
    event_type: str,
    facts: Facts,
    *,
    is_enabled: Callable[[Rule], bool] | None = None,
) -> list[RuleOutcome]:
    """Every rule triggered by `event_type`, in file order, with its verdict."""
    outcomes = []
    for rule in playbook.triggered_by(event_type):
        enabled = is_enabled(rule) if is_enabled is not None else rule.enabled
        if not enabled:
            outcomes.append(RuleOutcome(rule=rule, matched=False, off=True))
            continue
        failed = first_failure(rule, facts)
        outcomes.append(RuleOutcome(rule=rule, matched=failed is None, failed=failed))
    return outcomes


def first_failure(rule: Rule, facts: Facts) -> Check | None:
    """The first condition (in file order) that does not hold, None when all do."""
    for condition in rule.conditions:
        result = check(condition, facts)
        if not result.passed:
            return result
    return None


def references_to_read(rules: Iterable[Rule], kind: str) -> set[str]:
    """Fields of the event's object naming objects the rules look into (to re-read them)."""
    refs = reference_kinds(kind)
    needed: set[str] = set()
    for rule in rules:
        paths = [c.field for c in rule.conditions]
        for action in rule.actions:
            paths += [info.path for t in action.templates.values() for info in t.fields]
            needed.update(r for r in action.spec.reads(kind) if r in refs)
            amount = action.spec.amount_path(kind)
            if amount:
                paths.append(amount)
        for path in paths:
            head, _, rest = path.partition(".")
            if rest and head in refs:
                needed.add(head)
    return needed


def needs_approval(action: Action, facts: Facts, *, kind: str) -> bool:
    """Whether this action waits for a person: always with approval, or from the threshold up.

    An amount in another currency than the threshold cannot be compared: it waits too.
    """
    approval = action.approval
    if approval is None:
        return False
    if approval.above is None:
        return True
    amount_path = action.spec.amount_path(kind)
    if amount_path is None:
        return True
    amount = facts.lookup(amount_path)
    head, _, _ = amount_path.rpartition(".")
    currency = facts.lookup(f"{head}.currency" if head else "currency")
    if not isinstance(amount, int) or not isinstance(currency, str):
        return True
    if currency.lower() != approval.above.currency:
        return True
    return bool(amount >= approval.above.amount)


def action_amount(action: Action, facts: Facts, *, kind: str) -> tuple[int, str] | None:
    """The amount an action moves (a refund's charge amount), with its currency."""
    path = action.spec.amount_path(kind)
    if path is None:
        return None
    amount = facts.lookup(path)
    head, _, _ = path.rpartition(".")
    currency = facts.lookup(f"{head}.currency" if head else "currency")
    if isinstance(amount, int) and isinstance(currency, str):
        return amount, currency.lower()
    return None


def charge_id(facts: EventFacts) -> str | None:
    """The charge a refund acts on, for the event's kind of object."""
    if facts.kind == "charge":
        value = facts.obj.get("id")
        return value if isinstance(value, str) else None
    field = {"payment_intent": "latest_charge"}.get(facts.kind, "charge")
    return facts.reference_id(field)


def customer_id(facts: EventFacts) -> str | None:
    """The customer an event is about."""
    if facts.kind == "customer":
        value = facts.obj.get("id")
        return value if isinstance(value, str) else None
    return facts.reference_id("customer")


def subject_id(facts: EventFacts) -> str | None:
    """The object the event is about (invoice, charge, …): a settled subject ends waits."""
    value = facts.obj.get("id")
    return value if isinstance(value, str) else None


def describe_action(
    action: Action,
    facts: EventFacts,
    *,
    channel_names: dict[str, str] | None = None,
    team_email: str | None = None,
    escape: Escape | None = None,
) -> str:
    """What the action would do on this event, in one line for a person."""
    params = action.params
    kw = {"escape_value": escape, "escape_text": escape} if escape else {}
    if action.type == "slack":
        channel = params["channel"]
        shown = (channel_names or {}).get(channel, channel)
        return f"post to {shown}: {render(action.templates['text'], facts, **kw)}"
    if action.type == "email_team":
        to = params["to"]
        address = (team_email or "TEAM_EMAIL (not set)") if to == "team" else to
        return f"email {address}: {render(action.templates['subject'], facts, **kw)}"
    if action.type == "set_customer_metadata":
        pairs = ", ".join(f"{k}={v}" for k, v in params["metadata"].items())
        return f"set metadata {pairs} on customer {customer_id(facts) or '(none)'}"
    if action.type == "refund_charge":
        amount = action_amount(action, facts, kind=facts.kind)
        shown = format_amount(*amount) if amount else "amount unknown"
        text = f"refund charge {charge_id(facts) or '(none)'} in full ({shown})"
        if needs_approval(action, facts, kind=facts.kind):
            text += " — after an approval in Slack"
        return text
    if action.type == "alert_overdue":
        channel = params["channel"]
        shown = (channel_names or {}).get(channel, channel)
        return f"alert {shown} that invoice {subject_id(facts) or '(none)'} is overdue"
    if action.type == "email_cancellation":
        text = f"email customer {customer_id(facts) or '(none)'} a cancellation confirmation"
        if needs_approval(action, facts, kind=facts.kind):
            text += " — after an approval in Slack"
        return text
    if action.type == "wait":
        return f"wait {params['duration']} ({parse_duration(params['duration'])})"
    return action.spec.summary


def explain_failure(outcome: RuleOutcome) -> str:
    """Why a rule did not match, for a person."""
    if outcome.off:
        return "switched off"
    if outcome.failed is None:
        return "matched"
    return f"condition failed: {outcome.failed.explain()}"


def unread_references(facts: EventFacts, refs: Iterable[str]) -> list[str]:
    """References a rule needs that were not read (offline test)."""
    return [r for r in refs if r not in facts.related and facts.reference_id(r) is not None]


__all__ = ["Missing", "RuleOutcome", "evaluate"]
