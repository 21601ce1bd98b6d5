"""dunbot's own case events trigger rules: a case opened (and paid) for a failed invoice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.playbooks.conftest import ALERTS, firings, playbook_harness
from tests.slack_flow.conftest import SlackHarness, add_standard, message_text

CASE_RULES = """
[[rule]]
name = "New case: tell the team"
trigger = ["dunbot.case.opened", "dunbot.case.paid"]
conditions = ['amount_due >= "10.00 USD"', 'segment = "standard"']

[[rule.action]]
type = "slack"
channel = "alerts"
text = "Case {id} for invoice {invoice} of {customer_name}: {amount_due} ({status})"
"""


@pytest.fixture
async def pbc(
    database_url: str, fake_slack: Any, fake_stripe: Any, tmp_path: Path
) -> AsyncIterator[SlackHarness]:
    rules = tmp_path / "rules.toml"
    rules.write_text(CASE_RULES)
    async with playbook_harness(
        database_url, fake_slack, fake_stripe, tmp_path, rules=rules
    ) as harness:
        yield harness


async def test_case_opened_and_paid_fire_once_each(pbc: SlackHarness) -> None:
    add_standard(pbc.stripe, "in_case")
    await pbc.fail("in_case")
    await pbc.fail("in_case")  # the same failure again: no second "opened"
    await pbc.pay("in_case")

    texts = [message_text(m) for (c, _), m in pbc.slack.messages.items() if c == ALERTS]
    assert len(texts) == 2
    assert "in_case" in texts[0] and "Ana Smith" in texts[0] and "$49.00" in texts[0]
    assert "(open)" in texts[0] and "(paid)" in texts[1]
    assert sorted(f.event_type for f in await firings(pbc)) == [
        "dunbot.case.opened",
        "dunbot.case.paid",
    ]
