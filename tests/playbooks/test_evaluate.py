"""Evaluating rules: matches, the first failed condition, money never across currencies,
and templates that cannot mention @channel or forge a link."""

from __future__ import annotations

from typing import Any

import pytest

from bot.playbooks.slack_text import escape_template_text, escape_value
from recovery.playbooks.conditions import bind_condition, check, parse_condition
from recovery.playbooks.evaluate import describe_action, evaluate, explain_failure, needs_approval
from recovery.playbooks.facts import EventFacts
from recovery.playbooks.loader import load_playbook_file, load_playbook_text
from recovery.playbooks.templates import render
from tests.conftest import REPO_ROOT
from tests.playbooks.rules_text import LARGE_PAYMENT


def payment_event(amount: int, currency: str = "usd", **customer: Any) -> dict[str, Any]:
    customer_obj = {"id": "cus_1", "object": "customer", "metadata": {}, **customer}
    return {
        "id": "evt_1",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": "pi_1",
                "object": "payment_intent",
                "amount": amount,
                "currency": currency,
                "customer": customer_obj,
            }
        },
    }


def facts_of(event: dict[str, Any], kind: str = "payment_intent") -> EventFacts:
    return EventFacts.from_event(event, kind=kind)


def condition(text: str, kind: str = "payment_intent", **currencies: str) -> Any:
    return bind_condition(parse_condition(text), kinds=[kind], currencies=currencies)


def test_example_rules_match_a_1500_usd_payment_and_say_why_the_vip_rule_did_not() -> None:
    playbook = load_playbook_file(REPO_ROOT / "playbooks.example.toml")
    outcomes = evaluate(playbook, "payment_intent.succeeded", facts_of(payment_event(150000)))
    assert [(o.rule.name, o.matched) for o in outcomes] == [
        ("Large payment: thank-you note", True),
        ("Very large payment: mark VIP", False),
    ]
    assert explain_failure(outcomes[1]) == (
        'condition failed: amount > "2000.00 USD" — amount is $1,500.00'
    )


@pytest.mark.parametrize(
    ("amount", "currency", "matched"),
    [(100001, "usd", True), (100000, "usd", False), (500000, "eur", False), (500000, "jpy", False)],
)
def test_money_condition_compares_minor_units_and_never_another_currency(
    amount: int, currency: str, matched: bool
) -> None:
    result = check(condition('amount > "1000.00 USD"'), facts_of(payment_event(amount, currency)))
    assert result.passed is matched


def test_zero_decimal_currency_compares_whole_yen() -> None:
    jpy = condition('amount >= "5000 JPY"')
    assert check(jpy, facts_of(payment_event(5000, "jpy"))).passed
    assert not check(jpy, facts_of(payment_event(4999, "jpy"))).passed


def test_plain_number_with_currency_condition() -> None:
    rule_condition = condition("amount > 1000", currency="usd")
    assert check(rule_condition, facts_of(payment_event(100001))).passed
    assert not check(rule_condition, facts_of(payment_event(100001, "gbp"))).passed


@pytest.mark.parametrize(
    ("text", "passed"),
    [
        ('customer.metadata.segment = "enterprise"', True),
        ('customer.metadata.segment != "enterprise"', False),
        ('customer.metadata.segment in ["smb", "enterprise"]', True),
        ('customer.metadata.segment not in ["smb", "enterprise"]', False),
        ('customer.email contains "@example.com"', True),
        ("customer.email exists", True),
        ("customer.phone exists", False),
        ("customer.phone not exists", True),
        ("customer.metadata.vip = true", True),
        ("customer.metadata.seats > 10", True),
        ('currency = "USD"', True),
    ],
)
def test_operators(text: str, passed: bool) -> None:
    event = payment_event(
        100,
        email="ana@example.com",
        metadata={"segment": "enterprise", "vip": "true", "seats": "12"},
    )
    assert check(condition(text), facts_of(event)).passed is passed


def test_customer_facts_ltv_is_per_currency() -> None:
    facts = facts_of(payment_event(100))
    facts.customer_facts = {"ltv": {"eur": 900000}, "segment": "vip", "open_cases": 2}
    assert check(condition('customer.ltv > "5000 EUR"'), facts).passed
    assert not check(condition('customer.ltv > "5000 USD"'), facts).passed
    assert check(condition('customer.segment = "vip"'), facts).passed
    assert check(condition("customer.open_cases >= 2"), facts).passed


def test_a_reference_that_was_not_read_fails_with_a_reason() -> None:
    event = {
        "id": "evt_2",
        "type": "radar.early_fraud_warning.created",
        "data": {
            "object": {"id": "issfr_1", "object": "radar.early_fraud_warning", "charge": "ch_1"}
        },
    }
    result = check(
        condition("charge.refunded = false", "radar.early_fraud_warning"),
        facts_of(event, "radar.early_fraud_warning"),
    )
    assert not result.passed and result.actual == "charge could not be read"


def test_refund_approval_threshold_lets_small_amounts_go() -> None:
    playbook = load_playbook_file(REPO_ROOT / "playbooks.example.toml")
    refund = playbook.rules[2].actions[0]

    def efw(amount: int, currency: str = "usd") -> EventFacts:
        facts = facts_of(
            {
                "id": "evt_3",
                "type": "radar.early_fraud_warning.created",
                "data": {"object": {"id": "issfr_1", "charge": "ch_1"}},
            },
            "radar.early_fraud_warning",
        )
        facts.related["charge"] = {"id": "ch_1", "amount": amount, "currency": currency}
        return facts

    kind = "radar.early_fraud_warning"
    assert not needs_approval(refund, efw(1499), kind=kind)
    assert needs_approval(refund, efw(1500), kind=kind)
    assert needs_approval(refund, efw(100, "eur"), kind=kind)  # cannot compare: a person decides
    assert describe_action(refund, efw(1200)) == "refund charge ch_1 in full ($12.00)"


def test_template_escapes_customer_fields_so_nobody_is_mentioned() -> None:
    rule = load_playbook_text(LARGE_PAYMENT).rules[0]
    facts = facts_of(payment_event(150000, name="<!channel> Ana <https://evil.example|Pay here>"))
    text = render(
        rule.actions[0].templates["text"],
        facts,
        escape_value=escape_value,
        escape_text=escape_template_text,
    )
    assert "<!channel>" not in text and "<https://" not in text
    assert text == (
        "Payment of $1,500.00 from &lt;!channel&gt; Ana "
        "&lt;https://evil.example|Pay here&gt; (cus_1)"
    )


def test_template_text_itself_cannot_mention_channel_or_link() -> None:
    rule = load_playbook_text(
        LARGE_PAYMENT.replace("Payment of", "@channel <!here> <https://x.example|see> *Payment* of")
    ).rules[0]
    text = render(
        rule.actions[0].templates["text"],
        facts_of(payment_event(150000, name="Ana")),
        escape_value=escape_value,
        escape_text=escape_template_text,
    )
    assert text.startswith("@\u2060channel &lt;!here&gt; &lt;https://x.example|see&gt; *Payment*")
