"""`[[plan]]` tables are checked with the rules: every problem with its line and a suggestion."""

from __future__ import annotations

from datetime import timedelta

import pytest

from recovery.domain import AttemptStage
from recovery.plans.model import CancelWhen, ClosingAction
from recovery.playbooks.loader import PlaybookInvalid, load_playbook_file, load_playbook_text
from tests.conftest import REPO_ROOT

PLAN_RULE = """
[[rule]]
name = "Annual"
trigger = "invoice.payment_failed"
conditions = ['subscription.items.price.recurring.interval = "year"']

[[rule.action]]
type = "assign_plan"
plan = "{plan}"
"""


def problems(text: str) -> str:
    with pytest.raises(PlaybookInvalid) as invalid:
        load_playbook_text(text)
    return str(invalid.value)


def test_the_example_files_annual_plan() -> None:
    playbook = load_playbook_file(REPO_ROOT / "playbooks.example.toml")
    plan = playbook.plan("annual")
    assert plan is not None and plan.retries == 8
    assert plan.offsets[0] == timedelta(days=7, hours=12) and plan.offsets[-1] == timedelta(days=60)
    assert plan.grace == timedelta(days=7) and plan.closeout_approval
    assert plan.closing == (ClosingAction.CANCEL_SUBSCRIPTION, ClosingAction.MARK_UNCOLLECTIBLE)
    assert [(e.after_retry, e.stage) for e in plan.emails][-1] == (8, AttemptStage.FINAL)
    [rule] = playbook.plan_rules
    assert rule.enabled and playbook.uses_plans
    assert rule not in playbook.triggered_by("invoice.payment_failed")  # the plans run it


def test_a_schedule_of_offsets_and_the_defaults() -> None:
    text = '[[plan]]\nname = "quick"\nschedule = ["1d", "3d", "1w"]\n'
    plan = load_playbook_text(text).plan("quick")
    assert plan is not None
    assert plan.offsets == (timedelta(days=1), timedelta(days=3), timedelta(days=7))
    assert plan.gap_before(3) == timedelta(days=4)
    assert plan.closing == () and plan.cancel is CancelWhen.NOW and plan.closeout_approval
    assert load_playbook_text("").plan("default") is not None


def test_plan_problems_have_lines_and_suggestions() -> None:
    text = """[[plan]]
name = "annual"
retries = 8
over = "60d"
emails = [{ after_retry = 9, stage = "final" }, { after_retry = 2, stage = "folow_up" }]
grace = "a week"
close = ["cancel_subscription", "mark_uncolectible"]
cancel = "later"
"""
    report = problems(text)
    report_2 = problems('[[plan]]\nname = "annual"\nretries = 8\novr = "60d"\n')
    assert 'playbooks.toml:4: plan "annual": unknown key "ovr" (did you mean over?)' in report_2
    assert "playbooks.toml:3:" in report_2 and "needs a period" in report_2
    assert "after_retry must be a retry number" in report
    assert '"folow_up" is not a stage (did you mean follow_up?)' in report
    assert 'playbooks.toml:6: plan "annual": grace: "a week" is not a duration' in report
    assert "(did you mean mark_uncollectible?)" in report
    assert 'playbooks.toml:8: plan "annual": cancel = "later"' in report


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('schedule = ["7d", "3d"]', "later than the one before"),
        ('retries = 3\nover = "9d"\nschedule = ["1d"]', "not both"),
        ('close = ["void", "mark_uncollectible"]', "either voided or marked uncollectible"),
        ('retries = 2\nover = "4d"\nclose = ["leave_open", "void"]', "cannot be combined"),
        ('grace = "7d"', "give the plan retries"),
    ],
)
def test_inconsistent_plans_are_refused(body: str, message: str) -> None:
    assert message in problems(f'[[plan]]\nname = "p"\n{body}\n')


def test_a_rule_must_name_an_existing_plan() -> None:
    text = '[[plan]]\nname = "annual"\nretries = 2\nover = "4d"\n' + PLAN_RULE.format(plan="anual")
    report = problems(text)
    assert 'assign_plan: no [[plan]] named "anual" (did you mean annual?)' in report
    assert "playbooks.toml:12:" in report  # the action naming it


def test_a_plan_rule_reaches_the_subscriptions_price_interval() -> None:
    text = '[[plan]]\nname = "annual"\nretries = 2\nover = "4d"\n' + PLAN_RULE.format(plan="annual")
    [rule] = load_playbook_text(text).plan_rules
    assert rule.name == "Annual"
    bad = text.replace("recurring.interval", "recurring.intervl")
    assert "(did you mean interval?)" in problems(bad)


def test_assign_plan_on_another_invoice_event_is_refused() -> None:
    text = '[[plan]]\nname = "p"\nretries = 1\nover = "1d"\n' + PLAN_RULE.format(plan="p").replace(
        "invoice.payment_failed", "invoice.paid"
    )
    assert "customer rule action" in problems(text)
