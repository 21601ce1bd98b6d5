"""Loading a rules file: TOML → checked `Playbook`, or every problem with its line."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recovery.customers.crossings import Crossing, CrossingError, parse_crossing
from recovery.plans.loader import load_plans
from recovery.plans.model import DEFAULT_PLAN_NAME, DunningPlan
from recovery.playbooks.actions import (
    ACTION_SPECS,
    Action,
    ActionError,
    Approval,
    check_param,
    compile_templates,
)
from recovery.playbooks.conditions import (
    Condition,
    ConditionError,
    Operator,
    RawCondition,
    bind_condition,
    parse_condition,
)
from recovery.playbooks.fields import (
    CUSTOMER_CROSSED,
    object_kind,
    suggest,
    unknown_event_type_message,
)
from recovery.playbooks.money import MoneyError, parse_money
from recovery.playbooks.rules import PLAN_TRIGGER, Mode, Playbook, Rule
from recovery.playbooks.sourcemap import SourceMap, build_source_map

RULE_KEYS = (
    "name",
    "description",
    "enabled",
    "mode",
    "trigger",
    "conditions",
    "approval",
    "approval_above",
    "action",
    "crossing",
)
ACTION_KEYS = ("type", "approval", "approval_above")
ACTION_OBJECT_KIND = {"alert_overdue": "invoice", "email_cancellation": "subscription"}
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the file, at a line when it has one."""

    message: str
    line: int | None = None
    rule: str | None = None

    def render(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line else source
        subject = f' rule "{self.rule}":' if self.rule else ""
        return f"{where}:{subject} {self.message}"


class PlaybookInvalid(ValueError):
    """The rules file has problems; `str()` lists each with its line."""

    def __init__(self, problems: list[Problem], *, source: str) -> None:
        self.problems = problems
        self.source = source
        super().__init__(self.report())

    def report(self) -> str:
        count = len(self.problems)
        head = f"{self.source}: {count} problem{'s' if count != 1 else ''} in the rules file"
        return "\n".join([head, *("  " + p.render(self.source) for p in self.problems)])


def load_playbook_file(path: Path | str) -> Playbook:
    """Read and check a rules file; raises PlaybookInvalid (also for an unreadable file)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PlaybookInvalid(
            [Problem(f"cannot read the file: {error.__class__.__name__}: {error}")],
            source=str(path),
        ) from None
    return load_playbook_text(text, source=str(path))


def load_playbook_text(text: str, *, source: str = "playbooks.toml") -> Playbook:
    """Check a rules file's text; raises PlaybookInvalid with every problem found."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        position = _TOML_POSITION.search(message)
        line = int(position.group(1)) if position else None
        plain = _TOML_POSITION.sub("", message).strip()
        raise PlaybookInvalid(
            [Problem(f"not valid TOML: {plain}", line=line)], source=source
        ) from None
    lines = build_source_map(text)
    problems: list[Problem] = []
    for key in data:
        if key not in ("rule", "plan"):
            problems.append(
                Problem(
                    f'unknown setting "{key}" (a rules file holds [[rule]] and [[plan]] tables)'
                    + suggest(key, ["rule", "plan"]),
                    line=lines.top_keys.get(key) or _section_line(lines, key),
                )
            )
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list):
        problems.append(Problem("rules are written as [[rule]] tables", line=1))
        raw_rules = []
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_rules):
        rule = _RuleLoader(raw, index=index, lines=lines, problems=problems).load()
        if rule is None:
            continue
        if rule.name in seen:
            problems.append(
                Problem(
                    f'the name "{rule.name}" is used twice (names must be unique)',
                    line=rule.line,
                    rule=rule.name,
                )
            )
        seen[rule.name] = index
        rules.append(rule)
    plans = _load_plans(data, lines=lines, problems=problems)
    _check_plan_names(rules, plans, problems)
    if problems:
        raise PlaybookInvalid(problems, source=source)
    return Playbook(rules=tuple(rules), source=source, plans=tuple(plans))


def _load_plans(
    data: dict[str, Any], *, lines: SourceMap, problems: list[Problem]
) -> list[DunningPlan]:
    if "plan" not in data:
        return []

    def report(message: str, line: int | None, plan: str | None) -> None:
        problems.append(Problem(f'plan "{plan}": {message}' if plan else message, line=line))

    return load_plans(data["plan"], lines=lines, report=report)


def _check_plan_names(rules: list[Rule], plans: list[DunningPlan], problems: list[Problem]) -> None:
    """Every assign_plan names a [[plan]] of the file (or "default")."""
    names = [DEFAULT_PLAN_NAME, *(p.name for p in plans)]
    for rule in rules:
        for action in rule.actions:
            plan = action.params.get("plan") if action.type == "assign_plan" else None
            if isinstance(plan, str) and plan not in names:
                problems.append(
                    Problem(
                        f'assign_plan: no [[plan]] named "{plan}"'
                        + suggest(plan, names)
                        + " (plans: "
                        + ", ".join(names)
                        + ")",
                        line=action.line,
                        rule=rule.name,
                    )
                )


def _section_line(lines: SourceMap, key: str) -> int | None:
    tables = [t for name, ts in lines.sections.items() if name.split(".")[0] == key for t in ts]
    return tables[0].line if tables else None


def rule_version(raw: dict[str, Any]) -> str:
    """A short digest of a rule's content: changes whenever the rule does."""
    canonical = json.dumps(raw, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:10]


class _RuleLoader:
    """Checks one [[rule]] table, appending problems instead of stopping at the first."""

    def __init__(self, raw: Any, *, index: int, lines: SourceMap, problems: list[Problem]) -> None:
        self.raw = raw if isinstance(raw, dict) else {}
        self.index = index
        self.lines = lines
        self.problems = problems
        self.name: str | None = None
        self.count_before = len(problems)

    def problem(
        self,
        message: str,
        *,
        key: str | None = None,
        action: int | None = None,
        line: int | None = None,
    ) -> None:
        if line is None:
            line = (
                self.lines.key_line(self.index, key, action)
                if key is not None
                else self.lines.key_line(self.index, "type", action)
                if action is not None
                else self.lines.rule_line(self.index)
            )
        self.problems.append(Problem(message, line=line, rule=self.name))

    def load(self) -> Rule | None:
        raw = self.raw
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            self.problem('a rule needs a name, e.g. name = "Large payment"', key="name")
        elif len(name) > MAX_NAME:
            self.name = name[:40] + "…"
            self.problem(f"the name is longer than {MAX_NAME} characters", key="name")
        else:
            self.name = name.strip()
        for key in raw:
            if key not in RULE_KEYS:
                self.problem(f'unknown key "{key}"' + suggest(key, list(RULE_KEYS)), key=key)
        description = raw.get("description", "")
        if not isinstance(description, str):
            self.problem("description must be text in quotes", key="description")
        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            self.problem("enabled must be true or false", key="enabled")
        mode = raw.get("mode", Mode.LIVE.value)
        if mode not in {m.value for m in Mode}:
            self.problem(f'mode = "{mode}": write "live" or "dry-run"', key="mode")
        triggers = self._triggers()
        kinds = sorted({k for t in triggers if (k := object_kind(t)) is not None})
        conditions = self._conditions(kinds)
        default_approval = self._approval(raw, key_action=None, kinds=kinds, approvable=None)
        actions = self._actions(kinds, default_approval)
        crossing = self._crossing(triggers)
        self._customer_actions(kinds, actions)
        if len(self.problems) > self.count_before or self.name is None:
            return None
        return Rule(
            name=self.name,
            description=description if isinstance(description, str) else "",
            enabled=bool(enabled),
            mode=Mode(mode),
            triggers=tuple(triggers),
            conditions=tuple(conditions),
            actions=tuple(actions),
            version=rule_version(raw),
            line=self.lines.rule_line(self.index),
            crossing=crossing,
        )

    def _crossing(self, triggers: list[str]) -> Crossing | None:
        """`crossing = '…'` belongs to (and is needed by) the dunbot.customer.crossed trigger."""
        value = self.raw.get("crossing")
        wanted = CUSTOMER_CROSSED in triggers
        if value is None:
            if wanted:
                self.problem(
                    f"trigger {CUSTOMER_CROSSED} needs a crossing, e.g. "
                    "crossing = 'avg_delay_days above 25'"
                )
            return None
        if not wanted:
            self.problem(f"crossing is only for trigger {CUSTOMER_CROSSED}", key="crossing")
            return None
        if not isinstance(value, str):
            self.problem("crossing must be text in quotes", key="crossing")
            return None
        try:
            return parse_crossing(value)
        except CrossingError as error:
            self.problem(str(error), key="crossing")
            return None

    def _customer_actions(self, kinds: list[str], actions: list[Action]) -> None:
        """Customer triggers take one customer action; other triggers take none."""
        customer = "dunbot.customer" in kinds
        if customer and len(kinds) > 1:
            self.problem("customer triggers (dunbot.customer.*) cannot be mixed with others")
        for action in actions:
            if action.type == "assign_plan" and self.raw.get("trigger") in (
                PLAN_TRIGGER,
                [PLAN_TRIGGER],
            ):
                if len(actions) > 1:
                    self.problem("a rule assigning a plan has exactly one action")
                continue
            if action.spec.customer_rule and not customer:
                self.problem(
                    f"{action.type} is a customer rule action: use a trigger "
                    "dunbot.customer.created, dunbot.customer.created_or_updated or "
                    "dunbot.customer.crossed"
                    + (
                        ' (or trigger = "invoice.payment_failed" to choose the plan of a '
                        "failed invoice)"
                        if action.type == "assign_plan"
                        else ""
                    ),
                    line=action.line,
                )
            if customer and not action.spec.customer_rule:
                self.problem(
                    f"{action.type} does not work on customer triggers (use assign_owner, "
                    "assign_plan, exclude or notify)",
                    line=action.line,
                )
        if customer and len(actions) > 1:
            self.problem("a customer rule has exactly one action")

    def _triggers(self) -> list[str]:
        value = self.raw.get("trigger")
        if value is None:
            self.problem('a rule needs a trigger, e.g. trigger = "payment_intent.succeeded"')
            return []
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
            self.problem("trigger must be an event type or a list of them", key="trigger")
            return []
        known = []
        for item in items:
            if object_kind(item) is None:
                self.problem(unknown_event_type_message(item), key="trigger")
            else:
                known.append(item)
        return known

    def _conditions(self, kinds: list[str]) -> list[Condition]:
        value = self.raw.get("conditions", [])
        if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
            self.problem(
                "conditions must be a list of texts, e.g. ['amount > \"1000.00 USD\"']",
                key="conditions",
            )
            return []
        parsed: list[tuple[RawCondition, int | None]] = []
        for text in value:
            line = self.lines.find_in_rule(self.index, text.strip()[:60], after_key="conditions")
            try:
                parsed.append((parse_condition(text), line))
            except ConditionError as error:
                self.problem(str(error), line=line)
        currencies = {
            raw.field: raw.value.lower()
            for raw, _ in parsed
            if raw.field.endswith("currency")
            and raw.operator is Operator.EQ
            and isinstance(raw.value, str)
        }
        conditions = []
        for raw, line in parsed:
            try:
                conditions.append(
                    bind_condition(raw, kinds=kinds, currencies=currencies, line=line)
                )
            except ConditionError as error:
                self.problem(str(error), line=line)
        return conditions

    def _approval(
        self,
        table: dict[str, Any],
        *,
        key_action: int | None,
        kinds: list[str],
        approvable: bool | None,
    ) -> Approval | None:
        via = table.get("approval")
        above = table.get("approval_above")
        if via is None and above is None:
            return None
        if via not in (None, "slack", "none"):
            self.problem(
                f'approval = "{via}": write "slack" (or leave it out)',
                key="approval",
                action=key_action,
            )
            return None
        if via == "none":
            return None
        if approvable is False:
            self.problem(
                "this action cannot wait for an approval (only refunds and other "
                "money-moving or customer-visible actions can)",
                key="approval",
                action=key_action,
            )
            return None
        money = None
        if above is not None:
            if via is None:
                self.problem(
                    'approval_above needs approval = "slack"',
                    key="approval_above",
                    action=key_action,
                )
            try:
                money = parse_money(above) if isinstance(above, str) else parse_money("")
            except MoneyError as error:
                self.problem(f"approval_above: {error}", key="approval_above", action=key_action)
        return Approval(via="slack", above=money)

    def _actions(self, kinds: list[str], default_approval: Approval | None) -> list[Action]:
        raw_actions = self.raw.get("action")
        if raw_actions is None:
            self.problem("a rule needs at least one [[rule.action]]")
            return []
        if not isinstance(raw_actions, list) or not all(isinstance(a, dict) for a in raw_actions):
            self.problem("actions are written as [[rule.action]] tables", key="action")
            return []
        actions = []
        for position, raw in enumerate(raw_actions):
            action = self._action(raw, position, kinds, default_approval)
            if action is not None:
                actions.append(action)
        return actions

    def _action(
        self,
        raw: dict[str, Any],
        position: int,
        kinds: list[str],
        default_approval: Approval | None,
    ) -> Action | None:
        raw = dict(raw)
        if "wait" in raw and "type" not in raw:
            raw = {"type": "wait", "duration": raw.pop("wait"), **raw}
        type_ = raw.get("type")
        spec = ACTION_SPECS.get(type_) if isinstance(type_, str) else None
        if spec is None:
            self.problem(
                f'unknown action type "{type_}"'
                + suggest(str(type_), list(ACTION_SPECS))
                + " (types: "
                + ", ".join(ACTION_SPECS)
                + ")",
                key="type",
                action=position,
            )
            return None
        before = len(self.problems)
        params: dict[str, Any] = {}
        allowed = [*ACTION_KEYS, *(p.name for p in spec.params)]
        for key in raw:
            if key not in allowed and not (key == "wait" and spec.type == "wait"):
                self.problem(
                    f'{spec.type}: unknown key "{key}"' + suggest(key, allowed),
                    key=key,
                    action=position,
                )
        for param in spec.params:
            if param.name not in raw:
                if param.required and param.default is None:
                    self.problem(
                        f"{spec.type}: {param.name} is missing", key="type", action=position
                    )
                elif param.default is not None:
                    params[param.name] = param.default
                continue
            try:
                params[param.name] = check_param(param, raw[param.name], kinds=kinds)
            except ActionError as error:
                self.problem(f"{spec.type}: {error}", key=param.name, action=position)
        for kind in kinds:
            wanted = ACTION_OBJECT_KIND.get(spec.type)
            if wanted is not None and kind != wanted:
                self.problem(
                    f"{spec.type}: works on {wanted} events only, not on a {kind} event",
                    key="type",
                    action=position,
                )
            if spec.type == "refund_charge" and spec.amount_path(kind) is None:
                self.problem(
                    f"refund_charge: a {kind} event has no charge to refund",
                    key="type",
                    action=position,
                )
            if (
                spec.type == "set_customer_metadata"
                and kind not in ("customer",)
                and ("customer" not in spec.reads(kind))
            ):
                self.problem(f"{spec.type}: a {kind} event has no customer", action=position)
        templates = {}
        try:
            templates = compile_templates(spec, params, kinds=kinds)
        except ActionError as error:
            self.problem(f"{spec.type}: {error}", key="text", action=position)
        approval = self._approval(raw, key_action=position, kinds=kinds, approvable=spec.approvable)
        if approval is None and "approval" not in raw and spec.approvable:
            approval = default_approval
        if len(self.problems) > before:
            return None
        return Action(
            type=spec.type,
            params=params,
            templates=templates,
            approval=approval,
            line=self.lines.key_line(self.index, "type", position),
        )
