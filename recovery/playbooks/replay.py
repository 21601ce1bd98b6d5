"""Replaying rules over stored events without side effects: what would have happened.

A backtest before enabling a rule: each stored event of a rule's trigger types is evaluated
as the live runner would (objects it refers to re-read when a reader is given, dunbot's
customer facts as they are now), and the actions of every match are counted, not run.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from recovery.money import format_amount
from recovery.playbooks.evaluate import (
    action_amount,
    evaluate,
    needs_approval,
    references_to_read,
    unread_references,
)
from recovery.playbooks.facts import EventFacts
from recovery.playbooks.fields import object_kind
from recovery.playbooks.rules import Playbook, Rule

ACTION_NOUNS = {
    "slack": "alerts",
    "email_team": "team emails",
    "set_customer_metadata": "metadata changes",
    "refund_charge": "refunds",
    "alert_overdue": "overdue alerts",
    "wait": "waits",
}

_ORDER = {name: index for index, name in enumerate(ACTION_NOUNS)}


def _in_order(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (_ORDER.get(item[0], len(_ORDER)), item[0]))


Prepare = Callable[[EventFacts, list[Rule]], Awaitable[None]]


@dataclass
class RuleReplay:
    """What one rule would have done over the period."""

    name: str
    evaluated: int = 0
    matched: int = 0
    undecided: int = 0  # a condition needed an object that could not be read
    actions: Counter[str] = field(default_factory=Counter)
    amounts: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    approvals: int = 0

    def add_amount(self, action_type: str, amount: int, currency: str) -> None:
        per_currency = self.amounts[action_type]
        per_currency[currency] = per_currency.get(currency, 0) + amount


@dataclass
class ReplayReport:
    events: int = 0
    rules: dict[str, RuleReplay] = field(default_factory=dict)

    def totals(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for rule in self.rules.values():
            total.update(rule.actions)
        return total

    def total_amounts(self, action_type: str) -> dict[str, int]:
        merged: dict[str, int] = {}
        for rule in self.rules.values():
            for currency, amount in rule.amounts.get(action_type, {}).items():
                merged[currency] = merged.get(currency, 0) + amount
        return merged

    def lines(self) -> list[str]:
        """The printed report."""
        out = [f"{self.events} stored event(s) replayed"]
        for rule in self.rules.values():
            out.append(
                f"• {rule.name}: {rule.matched} of {rule.evaluated} event(s) matched"
                + (f", {rule.undecided} undecided (objects not readable)" if rule.undecided else "")
            )
            for action_type, count in _in_order(rule.actions):
                out.append(
                    f"    {count} {ACTION_NOUNS.get(action_type, action_type)}"
                    + _amounts(rule.amounts.get(action_type, {}))
                )
            if rule.approvals:
                out.append(f"    {rule.approvals} of them would have waited for an approval")
        totals = self.totals()
        if totals:
            summary = ", ".join(
                f"{count} {ACTION_NOUNS.get(t, t)}{_amounts(self.total_amounts(t))}"
                for t, count in _in_order(totals)
            )
            out.append(f"would have: {summary}")
        else:
            out.append("would have done nothing")
        return out


def _amounts(by_currency: dict[str, int]) -> str:
    if not by_currency:
        return ""
    return " (" + ", ".join(format_amount(a, c) for c, a in sorted(by_currency.items())) + ")"


async def replay(
    playbook: Playbook,
    events: Iterable[dict[str, Any]] | AsyncIterable[dict[str, Any]],
    *,
    rule_name: str | None = None,
    prepare: Prepare | None = None,
) -> ReplayReport:
    """Evaluate `events` (oldest first) against the rules; count what would have been done.

    `prepare` fills in re-read objects and customer facts (the live runner's reads); without
    it only what the events carry is used. Rules switched off are replayed too: a backtest.
    """
    rules = [r for r in playbook.rules if rule_name is None or r.name == rule_name]
    report = ReplayReport(rules={r.name: RuleReplay(name=r.name) for r in rules})
    chosen = Playbook(rules=tuple(rules), source=playbook.source)
    async for event in _each(events):
        event_type = str(event.get("type"))
        kind = object_kind(event_type)
        triggered = chosen.triggered_by(event_type)
        if kind is None or not triggered:
            continue
        report.events += 1
        facts = EventFacts.from_event(event, kind=kind)
        if prepare is not None:
            await prepare(facts, triggered)
        unread = unread_references(facts, references_to_read(triggered, kind))
        for outcome in evaluate(chosen, event_type, facts, is_enabled=lambda _r: True):
            stats = report.rules[outcome.rule.name]
            stats.evaluated += 1
            if not outcome.matched:
                if (
                    outcome.failed is not None
                    and unread
                    and "could not be read" in (outcome.failed.actual)
                ):
                    stats.undecided += 1
                continue
            stats.matched += 1
            for action in outcome.rule.actions:
                stats.actions[action.type] += 1
                amount = action_amount(action, facts, kind=kind)
                if amount is not None:
                    stats.add_amount(action.type, amount[0], amount[1])
                if needs_approval(action, facts, kind=kind):
                    stats.approvals += 1
    return report


async def _each(
    events: Iterable[dict[str, Any]] | AsyncIterable[dict[str, Any]],
) -> AsyncIterator[dict[str, Any]]:
    if isinstance(events, AsyncIterable):
        async for event in events:
            yield event
    else:
        for event in events:
            yield event
