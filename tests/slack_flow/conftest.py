"""dunbot fully wired: real Bolt app and AsyncWebClient against a fake Slack Web API, the
real Stripe SDK against a fake Stripe, the template drafter and the file mailer."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from bot.adapters.stripe_billing import StripeBilling
from bot.app import create_app
from bot.runtime import Runtime
from bot.settings import Settings
from bot.wiring import build_runtime, build_worker
from storage.models import Case, Draft, SlackMessage, VipTask
from storage.queue import RetryPolicy
from storage.worker import Worker
from tests.fakes.slack_requests import (
    block_action_body,
    sign,
    slash_command_body,
    view_submission_body,
)
from tests.fakes.slack_server import FakeSlack
from tests.fakes.stripe_events import build_event, store_events
from tests.fakes.stripe_server import DEFAULT_API_KEY, FakeStripe

SIGNING_SECRET = "slack-signing-secret-for-tests"
FINANCE = "UFIN"
FINANCE_2 = "UFIN2"
MANAGER = "UAM"
OUTSIDER = "UOUT"
APPROVALS = "CAPPROVALS"
VIP = "CVIP"


@dataclass
class SlackHarness:
    runtime: Runtime
    http: httpx.AsyncClient
    worker: Worker
    slack: FakeSlack
    stripe: FakeStripe
    outbox: Path
    app: FastAPI  # its lifespan is not run (run `app.router.lifespan_context(app)` for that)

    async def fail(self, invoice_id: str) -> None:
        event = build_event("invoice.payment_failed", self.stripe.update_invoice(invoice_id))
        await store_events(self.runtime.db, event)
        await self.worker.run_until_idle()

    async def pay(self, invoice_id: str) -> None:
        invoice = self.stripe.update_invoice(
            invoice_id,
            status="paid",
            amount_remaining=0,
            amount_paid=self.stripe.update_invoice(invoice_id)["amount_due"],
        )
        await store_events(self.runtime.db, build_event("invoice.paid", invoice))
        await self.worker.run_until_idle()

    async def post(
        self, body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
    ) -> httpx.Response:
        return await self.http.post(
            "/slack/events", content=body, headers=sign(body, secret, timestamp)
        )

    async def card(self, kind: str, subject_id: int) -> dict[str, Any]:
        async with self.runtime.db.sessions() as session:
            row = await session.scalar(
                select(SlackMessage).where(
                    SlackMessage.card_kind == kind, SlackMessage.subject_id == subject_id
                )
            )
        assert row is not None and row.ts
        return self.slack.message(row.channel, row.ts) | {"ts": row.ts, "channel": row.channel}

    async def latest_draft(self, invoice_id: str) -> Draft:
        async with self.runtime.db.sessions() as session:
            case = await session.scalar(select(Case).where(Case.invoice_id == invoice_id))
            assert case is not None
            draft = await session.scalar(
                select(Draft).where(Draft.case_id == case.id).order_by(Draft.id.desc()).limit(1)
            )
        assert draft is not None
        return draft

    async def task(self, invoice_id: str) -> VipTask:
        async with self.runtime.db.sessions() as session:
            case = await session.scalar(select(Case).where(Case.invoice_id == invoice_id))
            assert case is not None
            task = await session.scalar(select(VipTask).where(VipTask.case_id == case.id))
        assert task is not None
        return task

    async def click(self, action_id: str, user: str, message: dict[str, Any]) -> httpx.Response:
        value = button_value(message, action_id)
        body = block_action_body(action_id, value, user, message["channel"], message["ts"])
        return await self.post(body)

    async def submit(
        self, callback_id: str, private_metadata: str, values: dict[str, dict[str, Any]], user: str
    ) -> httpx.Response:
        return await self.post(view_submission_body(callback_id, private_metadata, values, user))

    async def command(self, text: str, user: str) -> httpx.Response:
        return await self.post(slash_command_body(text, user))

    async def open_home(self, user: str) -> dict[str, Any]:
        """`user` opens the App Home (a signed app_home_opened event); the view published."""
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
        response = await self.http.post("/slack/events", content=body, headers=headers)
        assert response.status_code == 200
        await self.worker.run_until_idle()
        return self.slack.home_views[user]


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """action_id → button element of a posted message."""
    found = {}
    for block in message.get("blocks") or []:
        if isinstance(block, str):
            block = json.loads(block)
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            found[element["action_id"]] = element
    return found


def button_value(message: dict[str, Any], action_id: str) -> str:
    return buttons(message)[action_id]["value"]


def message_text(message: dict[str, Any]) -> str:
    """Fallback text plus every text in the blocks, for assertions."""
    return json.dumps(message.get("blocks") or []) + "\n" + (message.get("text") or "")


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    with FakeStripe() as server:
        yield server


@asynccontextmanager
async def wired_harness(
    database_url: str,
    slack: FakeSlack,
    stripe: FakeStripe,
    tmp_path: Path,
    **mail_settings: Any,
) -> AsyncIterator[SlackHarness]:
    """dunbot fully wired to the fakes (Bolt, worker, ASGI client); `mail_settings` are the
    Settings fields of the email backend (e.g. `email_backend="file", email_outbox_dir=...`)."""
    settings = Settings(
        database_url=database_url,
        environment="test",
        stripe_api_key=DEFAULT_API_KEY,
        stripe_api_base=stripe.base_url,
        stripe_webhook_secret="whsec_test",
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.base_url,
        slack_approvals_channel=APPROVALS,
        slack_vip_channel=VIP,
        finance_approvers=[FINANCE, FINANCE_2],
        account_managers=[MANAGER],
        llm_provider="template",
        company_name="Acme",
        **mail_settings,
    )
    billing = StripeBilling.connect(
        api_key=DEFAULT_API_KEY, api_base=stripe.base_url, max_network_retries=0
    )
    runtime = build_runtime(settings, billing=billing, configure_logs=False)
    worker = build_worker(runtime)
    worker.retry_policy = RetryPolicy(base_s=0, jitter=0)
    assert runtime.slack is not None  # the Slack settings above wire it
    runtime.slack.notifier.pacer.interval_s = 0.0
    app = create_app(runtime)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://dunbot.test"
    ) as http:
        yield SlackHarness(runtime, http, worker, slack, stripe, tmp_path / "outbox", app)
    await billing.aclose()
    await runtime.db.dispose()


@pytest.fixture
async def sh(
    database_url: str, fake_slack: FakeSlack, fake_stripe: FakeStripe, tmp_path: Path
) -> AsyncIterator[SlackHarness]:
    async with wired_harness(
        database_url,
        fake_slack,
        fake_stripe,
        tmp_path,
        email_backend="file",
        email_outbox_dir=tmp_path / "outbox",
    ) as harness:
        yield harness


def add_standard(
    stripe: FakeStripe,
    invoice_id: str = "in_std",
    *,
    customer: str = "cus_std",
    email: str = "ana@example.com",
    name: str = "Ana Smith",
) -> None:
    stripe.add_customer(id=customer, email=email, name=name)
    stripe.add_invoice(
        id=invoice_id,
        customer=customer,
        amount_due=4_900,
        attempt_count=1,
        next_payment_attempt=2_000_000_000,
    )
    stripe.add_failed_payment(invoice_id, decline_code="expired_card", code="expired_card")


def add_vip(stripe: FakeStripe, invoice_id: str = "in_vip") -> None:
    stripe.add_customer(
        id="cus_vip", email="cfo@bigco.example", name="BigCo", metadata={"dunbot_tier": "vip"}
    )
    stripe.add_invoice(
        id=invoice_id,
        customer="cus_vip",
        amount_due=9_900,
        attempt_count=1,
        next_payment_attempt=2_000_000_000,
    )
