"""`/dunning rules`, and switching a rule off from the App Home (finance approvers only)."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import select

from bot.playbooks.home import TOGGLE_ACTION_ID
from storage.models import AuditEntry, PlaybookRuleState
from tests.fakes.slack_requests import block_action_body, sign
from tests.playbooks.conftest import ALERTS, deliver
from tests.slack_flow.conftest import FINANCE, MANAGER, SIGNING_SECRET, SlackHarness

VIP_RULE = "Very large payment: mark VIP"


async def open_home(harness: SlackHarness, user: str) -> dict[str, Any]:
    event = {
        "type": "event_callback",
        "team_id": "T0DUNBOT1",
        "api_app_id": "A0DUNBOT1",
        "event": {
            "type": "app_home_opened",
            "user": user,
            "channel": "D0HOME",
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        },
        "event_id": f"Ev0HOME{time.time_ns()}",
        "event_time": int(time.time()),
    }
    body = json.dumps(event).encode()
    headers = sign(body, SIGNING_SECRET) | {"Content-Type": "application/json"}
    assert (
        await harness.http.post("/slack/events", content=body, headers=headers)
    ).status_code == 200
    await harness.worker.run_until_idle()
    return harness.slack.home_views[user]


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
    manager_view = await open_home(pb, MANAGER)
    assert toggle_buttons(manager_view) == {}  # only finance approvers may switch
    button = toggle_buttons(await open_home(pb, FINANCE))[VIP_RULE]
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
