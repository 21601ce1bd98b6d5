"""dunbot wired with DUNNING_CHANNELS=email,sms against fake Slack, Stripe, Twilio and SMTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select, update
from twilio.request_validator import RequestValidator

from bot.slack.ids import ApprovalAction
from storage.models import Job, OutboxSms, utcnow
from tests.fakes.slack_server import FakeSlack
from tests.fakes.smtp_server import ScriptedSmtpServer
from tests.fakes.stripe_server import FakeStripe
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.slack_flow.conftest import FINANCE, SlackHarness, wired_harness

PUBLIC_URL = "https://dunbot.example.test"
PHONE = "+4915123456789"
NOON_BERLIN = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
NIGHT_BERLIN = datetime(2026, 12, 2, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
MORNING_BERLIN = datetime(2026, 12, 3, 7, 1, tzinfo=UTC)  # 08:01 in Berlin


@dataclass
class SmsHarness:
    app: SlackHarness
    twilio: FakeTwilio
    smtp: ScriptedSmtpServer
    now: datetime = NOON_BERLIN

    def customer(
        self,
        invoice_id: str = "in_sms",
        *,
        consent: str | None = "true",
        phone: str | None = "015123456789",
        customer: str = "cus_sms",
    ) -> None:
        """A German customer with a national number and (by default) SMS consent."""
        metadata = {"timezone": "Europe/Berlin"}
        if consent is not None:
            metadata["sms_consent"] = consent
        stripe = self.app.stripe
        stripe.add_customer(
            id=customer, email="lena@example.com", name="Lena Becker", phone=phone,
            address={"city": "Berlin", "country": "DE", "line1": "Hauptstr. 1", "line2": None,
                     "postal_code": "10115", "state": None},
            metadata=metadata,
        )  # fmt: skip
        stripe.add_invoice(
            id=invoice_id, customer=customer, amount_due=4_900, attempt_count=1,
            next_payment_attempt=2_000_000_000,
        )  # fmt: skip
        stripe.add_failed_payment(invoice_id, decline_code="expired_card", code="expired_card")

    async def fail_and_approve(self, invoice_id: str = "in_sms") -> None:
        await self.app.fail(invoice_id)
        draft = await self.app.latest_draft(invoice_id)
        card = await self.app.card("approval", draft.id)
        assert (await self.app.click(ApprovalAction.APPROVE, FINANCE, card)).status_code == 200
        await self.app.worker.run_until_idle()

    async def sms_rows(self) -> list[OutboxSms]:
        async with self.app.runtime.db.sessions() as session:
            return list((await session.scalars(select(OutboxSms).order_by(OutboxSms.id))).all())

    async def sms_jobs(self) -> list[Job]:
        async with self.app.runtime.db.sessions() as session:
            query = select(Job).where(Job.kind == "send_sms").order_by(Job.id)
            return list((await session.scalars(query)).all())

    async def make_sms_jobs_due(self) -> None:
        async with self.app.runtime.db.transaction() as session:
            await session.execute(update(Job).where(Job.kind == "send_sms").values(run_at=utcnow()))

    async def inbound(
        self, body: str, *, sender: str = PHONE, token: str = AUTH_TOKEN
    ) -> httpx.Response:
        """A reply as Twilio posts it, signed with `token`."""
        params = {"From": sender, "To": "+15005550006", "Body": body, "AccountSid": ACCOUNT_SID,
                  "MessageSid": "SMinbound", "NumMedia": "0"}  # fmt: skip
        signature = RequestValidator(token).compute_signature(f"{PUBLIC_URL}/twilio/sms", params)
        return await self.app.http.post(
            "/twilio/sms",
            content=urlencode(params),
            headers={"content-type": "application/x-www-form-urlencoded",
                     "x-twilio-signature": signature},
        )  # fmt: skip


@pytest.fixture
async def sms(
    database_url: str,
    fake_slack: FakeSlack,
    stripe_api: FakeStripe,
    smtp: ScriptedSmtpServer,
    fake_twilio: FakeTwilio,
    tmp_path: Path,
) -> AsyncIterator[SmsHarness]:
    async with wired_harness(
        database_url, fake_slack, stripe_api, tmp_path,
        email_backend="smtp", smtp_host=smtp.host, smtp_port=smtp.port, smtp_tls="false",
        email_from="billing@acme.test", public_url=PUBLIC_URL,
        dunning_channels=["email", "sms"], twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN, twilio_from="+15005550006",
        twilio_api_base=fake_twilio.base_url, company_timezone="UTC",
    ) as app:  # fmt: skip
        harness = SmsHarness(app, fake_twilio, smtp)
        app.runtime.require_engine().sms.clock = lambda: harness.now
        yield harness
