"""Loading rules files: the example is valid; every problem is reported with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from recovery.playbooks.loader import PlaybookInvalid, load_playbook_file, load_playbook_text
from recovery.playbooks.money import Money
from recovery.playbooks.rules import Mode
from tests.conftest import REPO_ROOT
from tests.playbooks.rules_text import LARGE_PAYMENT


def problems_of(text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(PlaybookInvalid) as invalid:
        load_playbook_text(text)
    return [(p.line, p.message) for p in invalid.value.problems]


def test_example_playbooks_are_valid_and_all_enabled() -> None:
    playbook = load_playbook_file(REPO_ROOT / "playbooks.example.toml")
    names = [rule.name for rule in playbook.rules if rule not in playbook.customer_rules]
    assert names == [
        "Large payment: thank-you note",
        "Very large payment: mark VIP",
        "Early fraud warning: refund",
        "Overdue over 500 USD: collections",
        "Subscription cancelled: confirmation email",
        "Annual subscribers: annual dunning plan",
    ]
    assert all(rule.enabled and rule.mode is Mode.LIVE for rule in playbook.rules)
    refund = playbook.rules[2].actions[0]
    assert refund.type == "refund_charge"
    assert refund.approval is not None and refund.approval.above == Money(1500, "usd")


def test_a_rule_reads_name_trigger_conditions_and_ordered_actions() -> None:
    playbook = load_playbook_text(
        LARGE_PAYMENT
        + """
[[rule.action]]
wait = "7d"

[[rule.action]]
type = "email_team"
subject = "Big payment {amount}"
body = "Say thanks"
"""
    )
    rule = playbook.rules[0]
    assert rule.triggers == ("payment_intent.succeeded",)
    assert [c.text for c in rule.conditions] == ['amount > "1000.00 USD"']
    assert rule.conditions[0].value == Money(100000, "usd")
    assert [a.type for a in rule.actions] == ["slack", "wait", "email_team"]
    assert rule.actions[1].params == {"duration": "7d"}
    assert rule.actions[2].params["to"] == "team"


def test_rule_version_changes_with_the_rule_text() -> None:
    one = load_playbook_text(LARGE_PAYMENT).rules[0].version
    two = load_playbook_text(LARGE_PAYMENT.replace("1000.00", "1200.00")).rules[0].version
    assert one != two and len(one) == 10


def test_plain_number_with_a_currency_condition_is_major_units() -> None:
    text = LARGE_PAYMENT.replace(
        """'amount > "1000.00 USD"',""", """'amount > 1000',\n  'currency = "usd"',"""
    )
    condition = load_playbook_text(text).rules[0].conditions[0]
    assert condition.value == Money(100000, "usd")


def test_unknown_field_is_reported_at_its_line_with_a_suggestion() -> None:
    text = LARGE_PAYMENT.replace("'amount >", "'amout >")
    assert problems_of(text) == [
        (6, '"amout" is not a field of a payment intent (did you mean amount?)')
    ]


def test_bad_money_is_reported_at_its_line() -> None:
    text = LARGE_PAYMENT.replace('"1000.00 USD"', '"1000 dollars"')
    [(line, message)] = problems_of(text)
    assert line == 6
    assert 'write it as "1000.00 USD"' in message


def test_unknown_event_type_is_reported_at_the_trigger_line() -> None:
    text = LARGE_PAYMENT.replace("payment_intent.succeeded", "payment_intent.succeded")
    assert problems_of(text) == [
        (
            4,
            'unknown event type "payment_intent.succeded" (did you mean payment_intent.succeeded?)',
        )
    ]


def test_field_of_a_referenced_object_is_checked_against_that_object() -> None:
    text = LARGE_PAYMENT.replace("{customer.name}", "{customer.nmae}")
    [(line, message)] = problems_of(text)
    assert line == 12
    assert '"customer.nmae" is not a field of a customer (did you mean name?)' in message


def test_every_problem_of_the_file_is_listed_not_only_the_first() -> None:
    text = """
[[rule]]
name = "A"
trigger = "payment_intent.succeeded"
conditions = ['amount > 10']
colour = "blue"

[[rule.action]]
type = "slak"

[[rule]]
name = "A"
trigger = "radar.early_fraud_warning.created"

[[rule.action]]
type = "refund_charge"
approval = "slack"
approval_above = "15 dollars"
"""
    problems = problems_of(text)
    assert [line for line, _ in problems] == [6, 5, 9, 18]
    messages = " | ".join(message for _, message in problems)
    assert 'unknown key "colour"' in messages
    assert "a plain number is ambiguous for money" in messages
    assert 'unknown action type "slak" (did you mean slack?)' in messages
    assert "approval_above" in messages


def test_duplicate_rule_names_are_refused() -> None:
    with pytest.raises(PlaybookInvalid, match="used twice"):
        load_playbook_text(LARGE_PAYMENT + LARGE_PAYMENT)


def test_toml_syntax_error_has_its_line() -> None:
    text = LARGE_PAYMENT.replace('channel = "alerts"', 'channel = "alerts')
    [(line, message)] = problems_of(text)
    assert line == 11 and message.startswith("not valid TOML")


def test_approval_on_an_action_that_cannot_wait_for_one_is_refused() -> None:
    text = LARGE_PAYMENT.replace('channel = "alerts"', 'channel = "alerts"\napproval = "slack"')
    [(line, message)] = problems_of(text)
    assert line == 12 and "cannot wait for an approval" in message


def test_missing_file_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(PlaybookInvalid, match="cannot read the file"):
        load_playbook_file(tmp_path / "nope.toml")
