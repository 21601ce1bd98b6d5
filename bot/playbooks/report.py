"""The printed report of `dunbot rules test`: verdict per rule, then what each action does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from recovery.playbooks.evaluate import (
    describe_action,
    evaluate,
    explain_failure,
    references_to_read,
    unread_references,
)
from recovery.playbooks.facts import EventFacts
from recovery.playbooks.rules import Mode, Playbook


def channel_labels(settings: Any) -> dict[str, str]:
    """'alerts' → 'the alerts channel (C…)', as configured."""
    if settings is None:
        return {}
    return {
        "alerts": f"the alerts channel ({settings.alerts_channel or 'not set'})",
        "collections": f"the collections channel ({settings.collections_channel or 'not set'})",
        "approvals": f"the approvals channel ({settings.slack_approvals_channel or 'not set'})",
    }


def print_test_report(
    playbook: Playbook,
    event: dict[str, Any],
    facts: EventFacts,
    *,
    settings: Any,
    echo: Callable[[str], object],
) -> None:
    """Print which rules match the event and what they would do."""
    event_type = event["type"]
    echo(f"event {event.get('id', '(no id)')} {event_type} ({facts.obj.get('id', '?')})")
    outcomes = evaluate(playbook, event_type, facts)
    if not outcomes:
        echo(f"  no rule is triggered by {event_type}")
    unread = unread_references(facts, references_to_read([o.rule for o in outcomes], facts.kind))
    if unread:
        echo(
            "  not read (offline): "
            + ", ".join(unread)
            + " — expand them in the event file to test conditions on them"
        )
    global_dry_run = bool(settings is not None and settings.playbooks_dry_run)
    for outcome in outcomes:
        rule = outcome.rule
        if not outcome.matched:
            echo(f"✗ {rule.name} (v{rule.version}) — {explain_failure(outcome)}")
            continue
        dry = global_dry_run or rule.mode is Mode.DRY_RUN
        echo(f"✓ {rule.name} (v{rule.version}) matches" + (" — dry-run" if dry else ""))
        for number, action in enumerate(rule.actions, start=1):
            text = describe_action(
                action,
                facts,
                channel_names=channel_labels(settings),
                team_email=getattr(settings, "team_email", None),
            )
            echo(f"    {number}. " + ("would " if dry else "") + text)
    others = len(playbook.rules) - len(outcomes)
    if others:
        echo(f"  ({others} other rule(s) are not triggered by {event_type})")
