"""VIP tasks to Teams and a signed outbound webhook besides Slack, against local HTTP servers:
the same facts, signature verified with the standardwebhooks library, retried on 500 with the
same webhook-id, each delivered once, and the Slack card says so."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update
from standardwebhooks import Webhook

from storage.models import Job, TaskDelivery, TaskDeliveryStatus, utcnow
from tests.fakes.slack_server import FakeSlack
from tests.fakes.stripe_server import FakeStripe
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.slack_flow.conftest import SlackHarness, add_vip, message_text, wired_harness

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def teams() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def crm() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
async def th(
    database_url: str,
    fake_slack: FakeSlack,
    stripe_api: FakeStripe,
    teams: WebhookReceiver,
    crm: WebhookReceiver,
    tmp_path: Path,
) -> AsyncIterator[SlackHarness]:
    async with wired_harness(
        database_url, fake_slack, stripe_api, tmp_path,
        email_backend="file", email_outbox_dir=tmp_path / "outbox",
        teams_webhook_url=f"{teams.base_url}/workflows/teams",
        task_webhook_url=f"{crm.base_url}/hooks/dunbot", task_webhook_secret=SECRET,
    ) as harness:  # fmt: skip
        yield harness


async def run_retries(th: SlackHarness) -> None:
    """Backoff elapses: make retried jobs due and run them."""
    async with th.runtime.db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.kind == "deliver_task", Job.status != "succeeded")
            .values(run_at=utcnow())
        )
    await th.worker.run_until_idle()


async def test_vip_task_goes_to_teams_and_the_webhook_once_each(
    th: SlackHarness, teams: WebhookReceiver, crm: WebhookReceiver
) -> None:
    add_vip(th.stripe)
    await th.fail("in_vip")
    await run_retries(th)
    await th.fail("in_vip")  # the same failure again: no second delivery
    await run_retries(th)

    [card_post] = teams.posts
    [hook] = crm.posts
    card = json.loads(card_post.body)["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    facts = {f["title"]: f["value"] for f in card["content"]["body"][1]["facts"]}
    assert "BigCo" in facts["Customer"] and facts["Amount due"] == "$99.00"
    assert "dunbot\\_tier=vip" in facts["Why VIP"]
    [action] = card["content"]["actions"]
    assert action["url"] == "https://dashboard.stripe.com/invoices/in_vip"

    payload = Webhook(SECRET).verify(hook.body, hook.headers)
    assert payload["type"] == "vip_task.opened"
    assert payload["data"]["invoice_id"] == "in_vip" and payload["data"]["amount_due"] == 9_900
    assert payload["data"]["reasons"] == ["customer metadata dunbot_tier=vip"]

    task_card = await th.card("vip_task", 1)
    text = json.loads(message_text(task_card).split("\n")[0])
    assert "Also sent to Teams ✓, the task webhook ✓" in json.dumps(text, ensure_ascii=False)


async def test_webhook_retried_on_500_with_the_same_id(
    th: SlackHarness, crm: WebhookReceiver
) -> None:
    crm.answer_next(500, 503)
    add_vip(th.stripe)
    await th.fail("in_vip")
    await run_retries(th)
    await run_retries(th)

    first, second, third = crm.posts
    assert [p.status for p in crm.posts] == [500, 503, 200]
    assert (
        first.headers["webhook-id"] == second.headers["webhook-id"] == third.headers["webhook-id"]
    )
    assert Webhook(SECRET).verify(third.body, third.headers)["data"]["invoice_id"] == "in_vip"
    async with th.runtime.db.sessions() as session:
        rows = (await session.scalars(select(TaskDelivery).order_by(TaskDelivery.id))).all()
    assert [(r.target, r.status) for r in rows] == [
        ("teams", TaskDeliveryStatus.DELIVERED), ("webhook", TaskDeliveryStatus.DELIVERED),
    ]  # fmt: skip
    await run_retries(th)
    assert len(crm.posts) == 3


async def test_a_tampered_body_fails_verification(th: SlackHarness, crm: WebhookReceiver) -> None:
    add_vip(th.stripe)
    await th.fail("in_vip")
    [hook] = crm.posts
    with pytest.raises(Exception, match="signature"):
        Webhook(SECRET).verify(hook.body.replace("9900", "1"), hook.headers)
