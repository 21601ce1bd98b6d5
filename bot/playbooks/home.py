"""The playbooks section of the App Home: rules with on/off and firings; finance approvers
get a button to switch each rule (stored and audited, it survives restarts)."""

from __future__ import annotations

import json
from typing import Any

from bot.playbooks.summary import RuleLine, line_text

TOGGLE_ACTION_ID = "playbook_rule_toggle"
MAX_RULES_SHOWN = 15


def toggle_value(name: str, *, enable: bool) -> str:
    return json.dumps({"rule": name, "on": enable}, separators=(",", ":"))


def parse_toggle_value(value: str | None) -> tuple[str, bool] | None:
    """(rule name, switch on?) from a toggle button, None when the value is not one."""
    try:
        data = json.loads(value or "")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    name, on = data.get("rule"), data.get("on")
    if not isinstance(name, str) or not isinstance(on, bool) or not 0 < len(name) <= 100:
        return None
    return name, on


def home_blocks(lines: list[RuleLine], *, can_toggle: bool) -> list[dict[str, Any]]:
    """Blocks appended to the App Home."""
    if not lines:
        return []
    blocks: list[dict[str, Any]] = [
        {"type": "divider"},
        {"type": "header", "text": {"type": "plain_text", "text": f"Playbooks ({len(lines)})"}},
    ]
    for line in lines[:MAX_RULES_SHOWN]:
        block: dict[str, Any] = {
            "type": "section",
            "text": {"type": "mrkdwn", "text": line_text(line)[:3000]},
        }
        if can_toggle:
            block["accessory"] = {
                "type": "button",
                "action_id": TOGGLE_ACTION_ID,
                "text": {
                    "type": "plain_text",
                    "text": "Switch off" if line.enabled else "Switch on",
                },
                "value": toggle_value(line.name, enable=not line.enabled),
            }
        blocks.append(block)
    if not can_toggle:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": "Finance approvers can switch rules on and off."}
                ],
            }
        )
    return blocks
