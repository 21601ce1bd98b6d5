"""Checking `[[plan]]` tables of a rules file: every problem with its line, and a suggestion."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from recovery.domain import AttemptStage
from recovery.plans.model import (
    DEFAULT_PLAN_NAME,
    CancelWhen,
    ClosingAction,
    DunningPlan,
    PlanEmail,
)
from recovery.playbooks.durations import DurationError, parse_duration
from recovery.playbooks.fields import suggest
from recovery.playbooks.sourcemap import SourceMap, TableLines

PLAN_KEYS = (
    "name",
    "description",
    "retries",
    "over",
    "schedule",
    "emails",
    "grace",
    "close",
    "cancel",
    "closeout_approval",
)
EMAIL_KEYS = ("after_retry", "stage")
CLOSE_CHOICES = (*(a.value for a in ClosingAction), "leave_open")
STAGES = tuple(s.value for s in AttemptStage)
MAX_RETRIES = 30
MAX_SPAN = timedelta(days=366)

Report = Callable[[str, int | None, str | None], None]  # message, line, plan name


def load_plans(raw_plans: Any, *, lines: SourceMap, report: Report) -> list[DunningPlan]:
    """The checked plans of `[[plan]]` tables; problems go to `report`."""
    if not isinstance(raw_plans, list) or not all(isinstance(p, dict) for p in raw_plans):
        report("plans are written as [[plan]] tables", _first_line(lines), None)
        return []
    tables = lines.sections.get("plan", [])
    plans: list[DunningPlan] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_plans):
        table = tables[index] if index < len(tables) else None
        plan = _PlanLoader(raw, table=table, report=report).load()
        if plan is None:
            continue
        if plan.name in seen or plan.name == DEFAULT_PLAN_NAME and plan.retries:
            report(
                f'the plan name "{plan.name}" is used twice (names must be unique)'
                if plan.name in seen
                else 'the "default" plan is Stripe\'s own retries: it cannot retry itself '
                "(give this plan another name)",
                plan.line,
                plan.name,
            )
            continue
        seen.add(plan.name)
        plans.append(plan)
    return plans


def _first_line(lines: SourceMap) -> int | None:
    tables = lines.sections.get("plan")
    return tables[0].line if tables else lines.top_keys.get("plan")


class _PlanLoader:
    """Checks one [[plan]] table, reporting every problem instead of stopping at the first."""

    def __init__(self, raw: dict[str, Any], *, table: TableLines | None, report: Report) -> None:
        self.raw = raw
        self.table = table
        self.report = report
        self.name: str | None = None
        self.failed = False

    def line(self, key: str | None = None) -> int | None:
        if self.table is None:
            return None
        return self.table.keys.get(key, self.table.line) if key else self.table.line

    def problem(self, message: str, key: str | None = None) -> None:
        self.failed = True
        self.report(message, self.line(key), self.name)

    def load(self) -> DunningPlan | None:
        raw = self.raw
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            self.problem('a plan needs a short name, e.g. name = "annual"', "name")
        else:
            self.name = name.strip()
        for key in raw:
            if key not in PLAN_KEYS:
                self.problem(f'unknown key "{key}"' + suggest(key, list(PLAN_KEYS)), key)
        description = raw.get("description", "")
        if not isinstance(description, str):
            self.problem("description must be text in quotes", "description")
            description = ""
        offsets = self._offsets()
        emails = self._emails(len(offsets))
        grace = self._duration("grace", default=timedelta(0))
        closing = self._closing()
        cancel = raw.get("cancel", CancelWhen.NOW.value)
        if cancel not in {c.value for c in CancelWhen}:
            self.problem(f'cancel = "{cancel}": write "now" or "period_end"', "cancel")
            cancel = CancelWhen.NOW.value
        elif "cancel" in raw and ClosingAction.CANCEL_SUBSCRIPTION not in closing:
            self.problem('cancel is for close = ["cancel_subscription", …]', "cancel")
        approval = raw.get("closeout_approval", True)
        if not isinstance(approval, bool):
            self.problem("closeout_approval must be true or false", "closeout_approval")
        if (closing or "grace" in raw) and not offsets:
            self.problem(
                "grace and close follow dunbot's last retry: give the plan retries "
                '(retries = 8 with over = "60d", or schedule = ["3d", "7d", …])',
                "close" if closing else "grace",
            )
        if self.failed or self.name is None:
            return None
        return DunningPlan(
            name=self.name,
            description=description,
            offsets=tuple(offsets),
            emails=tuple(emails),
            grace=grace,
            closing=tuple(closing),
            cancel=CancelWhen(cancel),
            closeout_approval=bool(approval),
            line=self.line(),
        )

    def _duration(self, key: str, *, default: timedelta) -> timedelta:
        value = self.raw.get(key)
        if value is None:
            return default
        try:
            return parse_duration(value)
        except DurationError as error:
            self.problem(f"{key}: {error}", key)
            return default

    def _offsets(self) -> list[timedelta]:
        """`schedule = ["3d", "7d", …]` or `retries = N` spread evenly `over = "60d"`."""
        raw = self.raw
        schedule, retries, over = raw.get("schedule"), raw.get("retries"), raw.get("over")
        if schedule is not None and (retries is not None or over is not None):
            self.problem(
                'write either schedule = ["3d", "7d", …] or retries = 8 with over = "60d", '
                "not both",
                "schedule",
            )
            return []
        if schedule is not None:
            return self._schedule(schedule)
        if retries is None and over is None:
            return []
        if isinstance(retries, bool) or not isinstance(retries, int) or not 1 <= retries:
            self.problem("retries must be a whole number of retries, e.g. retries = 8", "retries")
            return []
        if retries > MAX_RETRIES:
            self.problem(f"retries: at most {MAX_RETRIES}", "retries")
            return []
        if over is None:
            self.problem(f'retries = {retries} needs a period, e.g. over = "60d"', "retries")
            return []
        span = self._duration("over", default=timedelta(0))
        if span <= timedelta(0) or span > MAX_SPAN:
            if not self.failed:
                self.problem('over must be a period up to a year, e.g. over = "60d"', "over")
            return []
        return [span * k / retries for k in range(1, retries + 1)]

    def _schedule(self, schedule: Any) -> list[timedelta]:
        if not isinstance(schedule, list) or not schedule or len(schedule) > MAX_RETRIES:
            self.problem(
                f"schedule is a list of 1 to {MAX_RETRIES} times after the first failure, e.g. "
                'schedule = ["3d", "7d", "14d"]',
                "schedule",
            )
            return []
        offsets = []
        for item in schedule:
            try:
                offsets.append(parse_duration(item))
            except DurationError as error:
                self.problem(f"schedule: {error}", "schedule")
                return []
        if any(b <= a for a, b in zip([timedelta(0), *offsets], offsets, strict=False)):
            self.problem(
                "schedule: each retry is a time after the first failure, later than the one "
                'before (e.g. ["3d", "7d", "14d"])',
                "schedule",
            )
            return []
        if offsets[-1] > MAX_SPAN:
            self.problem("schedule: the last retry must be within a year", "schedule")
            return []
        return offsets

    def _emails(self, retries: int) -> list[PlanEmail]:
        """`emails = [{ after_retry = 4, stage = "follow_up" }, …]`."""
        value = self.raw.get("emails")
        if value is None:
            return []
        example = 'e.g. emails = [{ after_retry = 4, stage = "follow_up" }]'
        if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
            self.problem(f"emails is a list of tables, {example}", "emails")
            return []
        emails: list[PlanEmail] = []
        for entry in value:
            for key in entry:
                if key not in EMAIL_KEYS:
                    self.problem(
                        f'emails: unknown key "{key}"' + suggest(key, list(EMAIL_KEYS)), "emails"
                    )
            after = entry.get("after_retry")
            stage = entry.get("stage")
            if isinstance(after, bool) or not isinstance(after, int) or not 1 <= after <= retries:
                self.problem(
                    f"emails: after_retry must be a retry number from 1 to {retries} "
                    "(the first failure's email is dunbot's usual first email)",
                    "emails",
                )
                continue
            if stage not in STAGES:
                self.problem(
                    f'emails: stage = "{stage}" is not a stage'
                    + suggest(str(stage), list(STAGES))
                    + " (stages: "
                    + ", ".join(STAGES)
                    + ")",
                    "emails",
                )
                continue
            if any(e.after_retry == after for e in emails):
                self.problem(f"emails: after_retry = {after} is listed twice", "emails")
                continue
            emails.append(PlanEmail(after_retry=after, stage=AttemptStage(stage)))
        return sorted(emails, key=lambda e: e.after_retry)

    def _closing(self) -> list[ClosingAction]:
        value = self.raw.get("close")
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(
                'close is a list, e.g. close = ["cancel_subscription", "mark_uncollectible"]',
                "close",
            )
            return []
        closing: list[ClosingAction] = []
        for item in value:
            if item not in CLOSE_CHOICES:
                self.problem(
                    f'close: unknown closing action "{item}"'
                    + suggest(item, list(CLOSE_CHOICES))
                    + " (choices: "
                    + ", ".join(CLOSE_CHOICES)
                    + ")",
                    "close",
                )
                continue
            if item == "leave_open":
                continue
            if ClosingAction(item) not in closing:
                closing.append(ClosingAction(item))
        if "leave_open" in value and closing:
            self.problem("close: leave_open cannot be combined with other closing actions", "close")
        if {ClosingAction.VOID, ClosingAction.MARK_UNCOLLECTIBLE} <= set(closing):
            self.problem("close: an invoice is either voided or marked uncollectible", "close")
        order = list(ClosingAction)
        return sorted(closing, key=order.index)
