"""Customer rules through the wired app: an owner from a metadata email (users.lookupByEmail),
/dunning mine, status with facts, exclude and include, App Home "my customers", the VIP card."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.models import Case, CaseStatus
from tests.fakes.slack_requests import sign
from tests.fakes.slack_server import FakeSlack
from tests.fakes.stripe_events import build_event, store_events
from tests.fakes.stripe_server import FakeStripe
from tests.slack_flow.conftest import (
    APPROVALS,
    FINANCE,
    MANAGER,
    SlackHarness,
    add_standard,
    add_vip,
    wired_harness,
)

RULES = """
[[rule]]
name = "Enterprise: owner from account manager email"
trigger = "dunbot.customer.created_or_updated"
conditions = ['metadata.segment = "enterprise"']
[[rule.action]]
type = "assign_owner"
owner = "metadata.account_manager_email"

[[rule]]
name = "Owed over 10 USD: tell alerts"
trigger = "dunbot.customer.crossed"
crossing = 'outstanding above "10.00 USD"'
[[rule.action]]
type = "notify"
to = "alerts"
text = "{name} owes {outstanding}"
"""


@pytest.fixture
async def rh(
    database_url: str, fake_slack: FakeSlack, fake_stripe: FakeStripe, tmp_path: Path
) -> AsyncIterator[SlackHarness]:
    rules = tmp_path / "playbooks.toml"
    rules.write_text(RULES, encoding="utf-8")
    async with wired_harness(
        database_url,
        fake_slack,
        fake_stripe,
        tmp_path,
        email_backend="file",
        email_outbox_dir=tmp_path / "outbox",
        playbooks_file=rules,
    ) as harness:
        yield harness


ENTERPRISE = {"segment": "enterprise", "account_manager_email": "am@acme.test"}


def _enterprise(sh: SlackHarness) -> None:
    add_standard(sh.stripe, name="Ada <!channel>")
    sh.stripe.add_customer(
        id="cus_std", email="ana@example.com", name="Ada <!channel>", metadata=ENTERPRISE
    )
    sh.slack.add_user(MANAGER, email="am@acme.test")


async def test_owner_from_metadata_email_then_mine_status_exclude_include(
    rh: SlackHarness,
) -> None:
    _enterprise(rh)
    await rh.fail("in_std")  # the event queues a facts refresh; the rule looks the email up
    assert [c.args["email"] for c in rh.slack.calls_to("users.lookupByEmail")] == ["am@acme.test"]

    mine = await rh.command("mine", MANAGER)
    assert rh.stripe.update_invoice("in_std")["number"] in mine.text
    assert "own no customers" in (await rh.command("mine", FINANCE)).text

    status = (await rh.command("status cus_std", FINANCE)).text
    assert "Payment rating" in status and f"<@{MANAGER}>" in status
    assert "Outstanding" in status and "$49.00" in status

    excluded = await rh.command("exclude cus_std internal test account", FINANCE)
    assert "excluded from dunning" in excluded.text
    assert "excluded from dunning" in (await rh.command("status cus_std", FINANCE)).text
    by_invoice = (await rh.command("status in_std", FINANCE)).text  # says why it is held
    assert f"excluded from dunning by <@{FINANCE}> (internal test account)" in by_invoice
    assert "excluded from dunning" in (await rh.command("list", FINANCE)).text
    assert "excluded from dunning" in (await rh.command("mine", MANAGER)).text
    included = await rh.command("include cus_std", FINANCE)
    assert "included in dunning again" in included.text
    await rh.worker.run_until_idle()
    async with rh.runtime.db.sessions() as session:
        case = await session.scalar(select(Case).where(Case.invoice_id == "in_std"))
    assert case is not None and case.status == CaseStatus.OPEN


async def test_app_home_lists_my_customers_and_the_vip_card_mentions_the_owner(
    rh: SlackHarness,
) -> None:
    add_vip(rh.stripe)
    rh.stripe.add_customer(
        id="cus_vip",
        email="cfo@bigco.example",
        name="BigCo",
        metadata={**ENTERPRISE, "dunbot_tier": "vip"},
    )
    rh.slack.add_user(MANAGER, email="am@acme.test")
    await rh.fail("in_vip")
    event = {
        "type": "event_callback",
        "team_id": "T0DUNBOT1",
        "api_app_id": "A0DUNBOT1",
        "event": {
            "type": "app_home_opened",
            "user": MANAGER,
            "tab": "home",
            "channel": "D0HOME",
            "event_ts": f"{time.time():.6f}",
        },
        "event_id": "Ev0HOME2",
        "event_time": int(time.time()),
    }
    body = json.dumps(event).encode()
    headers = sign(body, "slack-signing-secret-for-tests") | {"Content-Type": "application/json"}
    assert (await rh.http.post("/slack/events", content=body, headers=headers)).status_code == 200
    await rh.worker.run_until_idle()
    [publish] = rh.slack.calls_to("views.publish")
    home = json.dumps(publish.args["view"])
    assert "My customers" in home and "cus_vip" in home
    posted = [m for m in rh.slack.calls_to("chat.postMessage") if "VIP" in json.dumps(m.args)]
    assert posted  # the task card; updated once the owner is known
    updates = rh.slack.calls_to("chat.update")
    assert any(f"<@{MANAGER}>" in json.dumps(u.args) for u in [*posted, *updates])


async def test_a_crossing_notifies_the_channel_once_with_customer_fields_escaped(
    rh: SlackHarness,
) -> None:
    customer = rh.stripe.add_customer(id="cus_x", email="x@y.example", name="Eve <!channel>")
    updated = build_event("customer.updated", customer, event_id="evt_cus_1")
    await store_events(rh.runtime.db, updated, build_event("customer.updated", customer))
    await rh.worker.run_until_idle()  # first facts: nothing owed, no crossing
    add_standard(rh.stripe, customer="cus_x", email="x@y.example", name="Eve <!channel>")
    await rh.fail("in_std")  # now 49 USD owed: crosses 10 USD once
    await store_events(rh.runtime.db, updated)  # a late duplicate: same facts, nothing new
    await rh.worker.run_until_idle()
    posts = [m.args for m in rh.slack.calls_to("chat.postMessage") if "owes" in json.dumps(m.args)]
    assert len(posts) == 1
    assert posts[0]["channel"] == APPROVALS  # alerts default to the approvals channel
    text = json.dumps(posts[0])
    assert "$49.00" in text and "<!channel>" not in text and "&lt;!channel&gt;" in text
