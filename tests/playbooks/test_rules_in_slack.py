"""`/dunning rules`, and switching a rule off from the App Home (finance approvers only)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.playbooks.home import TOGGLE_ACTION_ID
from storage.models import AuditEntry, PlaybookRuleState
from tests.fakes.slack_requests import block_action_body
from tests.playbooks.conftest import ALERTS, deliver
from tests.slack_flow.conftest import FINANCE, MANAGER, SlackHarness

VIP_RULE = "Very large payment: mark VIP"


def toggle_buttons(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Rule name → its toggle button in the App Home."""
    found = {}
    for block in view["blocks"]:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == TOGGLE_ACTION_ID:
            found[json.loads(accessory["value"])["rule"]] = accessory
    return found


async def test_dunning_rules_lists_rules_with_state_and_firings(pb: SlackHarness) -> None:
    pb.stripe.add_customer(id="cus_big")
    intent = pb.stripe.add_payment_intent(amount=150_000, customer="cus_big")
    await deliver(pb, "payment_intent.succeeded", intent)
    response = await pb.command("rules", FINANCE)
    assert response.status_code == 200
    await pb.worker.run_until_idle()
    text = response.text + json.dumps([e["text"] for e in pb.slack.ephemerals])
    assert "Large payment: thank-you note* — on — 1 firing in 7 days" in text
    assert "Very large payment: mark VIP* — on — 0 firings in 7 days" in text


async def test_finance_switches_a_rule_off_from_the_app_home(pb: SlackHarness) -> None:
    manager_view = await pb.open_home(MANAGER)
    assert toggle_buttons(manager_view) == {}  # only finance approvers may switch
    button = toggle_buttons(await pb.open_home(FINANCE))[VIP_RULE]
    assert button["text"]["text"] == "Switch off"

    body = block_action_body(TOGGLE_ACTION_ID, button["value"], FINANCE, "D0HOME", "1.1")
    assert (await pb.post(body)).status_code == 200
    await pb.worker.run_until_idle()
    assert toggle_buttons(pb.slack.home_views[FINANCE])[VIP_RULE]["text"]["text"] == "Switch on"

    async with pb.runtime.db.sessions() as session:
        state = await session.get(PlaybookRuleState, VIP_RULE)
        logged = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "playbook.rule_off")
        )
    assert state is not None and not state.enabled and state.changed_by == f"slack:{FINANCE}"
    assert logged is not None and logged.detail["rule"] == VIP_RULE

    pb.stripe.add_customer(id="cus_huge")
    intent = pb.stripe.add_payment_intent(amount=250_000, customer="cus_huge")
    await deliver(pb, "payment_intent.succeeded", intent)
    assert pb.stripe.requests_to("/v1/customers/cus_huge", method="POST") == []  # switched off
    assert any(c == ALERTS for c, _ in pb.slack.messages)  # the other rule still acts
