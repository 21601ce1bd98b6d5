"""Cancellation confirmations: `customer.subscription.deleted` → one email to the customer, in
their language, without approval; none for dunbot's own close-out unless the rule says so."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from typing import Any

from recovery.playbooks.loader import PlaybookInvalid, load_playbook_text
from tests.fakes.slack_server import FakeSlack
from tests.fakes.stripe_server import FakeStripe, load_fixture
from tests.playbooks.conftest import actions, deliver, playbook_harness
from tests.slack_flow.conftest import SlackHarness

ENDED = 1_767_225_600  # 1 January 2026, 00:00 UTC

CLOSEOUT_SENDS = """
[[rule]]
name = "Subscription cancelled: confirmation email"
trigger = "customer.subscription.deleted"

[[rule.action]]
type = "email_cancellation"
closeout = "send"
"""


def subscription(customer: str, **fields: Any) -> dict[str, Any]:
    sub = load_fixture("subscription")
    sub.update({"id": "sub_gone", "customer": customer, "status": "canceled", "ended_at": ENDED})
    sub.update(fields)
    sub["items"]["data"][0]["price"]["nickname"] = "Pro annual"
    return sub


def outbox(harness: SlackHarness) -> list[str]:
    """Each sent email as To, Subject and the decoded plain-text body."""
    if not harness.outbox.exists():
        return []
    found = []
    for path in sorted(p for p in harness.outbox.iterdir() if p.is_file()):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        text = body.get_content()
        found.append(f"To: {message['To']}\nSubject: {message['Subject']}\n\n{text}")
    return found


async def test_confirmation_is_sent_once_in_the_customers_language(
    database_url: str, fake_slack: FakeSlack, fake_stripe: FakeStripe, tmp_path: Path
) -> None:
    fake_stripe.add_customer(
        id="cus_fr", email="claire@example.fr", name="Claire Dupont", preferred_locales=["fr-FR"]
    )
    async with playbook_harness(
        database_url,
        fake_slack,
        fake_stripe,
        tmp_path,
        cancellation_survey_url="https://survey.example.com/why",
    ) as pb:
        sub = subscription("cus_fr", cancellation_details={"reason": "cancellation_requested"})
        event = await deliver(pb, "customer.subscription.deleted", sub)
        await deliver(pb, "customer.subscription.deleted", sub, event_id=event["id"])  # again

        [email] = outbox(pb)
        assert "To: claire@example.fr" in email
        assert "Bonjour Claire Dupont" in email
        assert "Comme vous l'avez demand" in email and "1 janvier 2026" in email
        assert "Pro annual" in email and "https://survey.example.com/why" in email
        [action] = await actions(pb)
        assert not action.needs_approval
        assert action.result == "emailed the cancellation confirmation (fr)"
        assert fake_slack.messages == {}  # no approval card


async def test_non_payment_wording_and_no_email_for_dunbots_close_out(
    database_url: str, fake_slack: FakeSlack, fake_stripe: FakeStripe, tmp_path: Path
) -> None:
    fake_stripe.add_customer(id="cus_de", email="jonas@example.de", preferred_locales=["de"])
    async with playbook_harness(database_url, fake_slack, fake_stripe, tmp_path) as pb:
        closed = subscription("cus_de", metadata={"dunbot_closeout": "true"})
        await deliver(pb, "customer.subscription.deleted", closed)
        assert outbox(pb) == []
        [action] = await actions(pb)
        assert "close-out" in (action.result or "")

        failed = subscription("cus_de", id="sub_unpaid")
        failed["cancellation_details"] = {"reason": "payment_failed"}
        await deliver(pb, "customer.subscription.deleted", failed)
        [email] = outbox(pb)
        assert "Zahlung nicht" in email and "Guten Tag" in email


async def test_close_out_confirmation_is_sent_when_the_rule_says_so(
    database_url: str, fake_slack: FakeSlack, fake_stripe: FakeStripe, tmp_path: Path
) -> None:
    fake_stripe.add_customer(id="cus_en", email="sam@example.com")
    rules = tmp_path / "rules.toml"
    rules.write_text(CLOSEOUT_SENDS)
    async with playbook_harness(database_url, fake_slack, fake_stripe, tmp_path, rules=rules) as pb:
        await deliver(
            pb,
            "customer.subscription.deleted",
            subscription("cus_en", metadata={"dunbot_closeout": "true"}),
        )
        [email] = outbox(pb)
        assert "because its payment could not be collected" in email


def test_email_cancellation_on_an_invoice_event_is_refused() -> None:
    text = CLOSEOUT_SENDS.replace("customer.subscription.deleted", "invoice.overdue")
    try:
        load_playbook_text(text)
    except PlaybookInvalid as error:
        assert "works on subscription events only" in str(error)
    else:
        raise AssertionError("an email_cancellation on invoice events must be refused")
