"""PAY_LINK=portal: the email's one link is PUBLIC_URL/r/<token>; opening it creates a Stripe
billing portal session and redirects (303); a forged, expired or paid link gets a friendly
page and creates nothing. dunbot fully wired to fake Slack, fake Stripe and an SMTP server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select, update

from bot.pay_links import MAX_AGE_S, SALT, pay_link_secret
from bot.slack.ids import ApprovalAction
from recovery.guardrails import find_links
from storage.models import AuditEntry, Case, CaseStatus, Job
from tests.fakes.slack_server import FakeSlack
from tests.fakes.smtp_server import ScriptedSmtpServer
from tests.fakes.stripe_server import FakeStripe
from tests.slack_flow.conftest import FINANCE, SlackHarness, add_standard, wired_harness
from tests.support.mail import part_text

PUBLIC_URL = "https://pay.dunbot.test"
PORTAL = "/v1/billing_portal/sessions"


@pytest.fixture
async def ph(
    database_url: str,
    fake_slack: FakeSlack,
    stripe_api: FakeStripe,
    smtp: ScriptedSmtpServer,
    tmp_path: Path,
) -> AsyncIterator[SlackHarness]:
    async with wired_harness(
        database_url, fake_slack, stripe_api, tmp_path,
        email_backend="smtp", smtp_host=smtp.host, smtp_port=smtp.port, smtp_tls="false",
        email_from="billing@acme.test", pay_link="portal", public_url=PUBLIC_URL,
    ) as harness:  # fmt: skip
        yield harness


async def emailed_link(ph: SlackHarness, smtp: ScriptedSmtpServer) -> str:
    """Fail the invoice, approve the draft, send: the one link of the email."""
    add_standard(ph.stripe)
    await ph.fail("in_std")
    draft = await ph.latest_draft("in_std")
    card = await ph.card("approval", draft.id)
    assert (await ph.click(ApprovalAction.APPROVE, FINANCE, card)).status_code == 200
    await ph.worker.run_until_idle()
    [received] = smtp.messages
    message = received.message
    text, html = part_text(message), part_text(message, "html")
    [link] = find_links(text)
    assert link.startswith(f"{PUBLIC_URL}/r/") and "invoice.stripe.com" not in text + html
    assert html.count("href=") == 1 and f'href="{link}"' in html
    return link


async def stored_rows(ph: SlackHarness) -> tuple[int, int]:
    async with ph.runtime.db.sessions() as session:
        jobs = await session.scalar(select(func.count()).select_from(Job))
        audit = await session.scalar(select(func.count()).select_from(AuditEntry))
    return jobs or 0, audit or 0


async def test_link_creates_a_portal_session_and_redirects(
    ph: SlackHarness, smtp: ScriptedSmtpServer
) -> None:
    link = await emailed_link(ph, smtp)
    before = await stored_rows(ph)

    response = await ph.http.get(link.removeprefix(PUBLIC_URL))

    [session] = ph.stripe.portal_sessions()
    assert response.status_code == 303
    assert response.headers["location"] == session["url"]
    assert response.headers["cache-control"] == "no-store"
    assert session["customer"] == "cus_std"
    assert session["return_url"] == f"{PUBLIC_URL}/r/done"
    [request] = ph.stripe.requests_to(PORTAL, method="POST")
    assert request.headers.get("Idempotency-Key", "").startswith("dunbot-portal-")
    assert await stored_rows(ph) == before  # the route stores nothing

    again = await ph.http.get(link.removeprefix(PUBLIC_URL))  # a second click: a fresh session
    assert again.status_code == 303 and len(ph.stripe.portal_sessions()) == 2


def _tampered(token: str) -> str:
    index = len(token) // 2
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]


async def test_tampered_or_unknown_token_gets_a_page_and_creates_nothing(
    ph: SlackHarness, smtp: ScriptedSmtpServer
) -> None:
    link = await emailed_link(ph, smtp)
    token = link.rsplit("/", 1)[1]
    for path in (f"/r/{_tampered(token)}", "/r/not-a-token", "/r/" + "x" * 5000):
        response = await ph.http.get(path)
        assert response.status_code == 404, path
        assert "not valid" in response.text and "<a " not in response.text
    assert ph.stripe.requests_to(PORTAL, method="POST") == []


async def test_expired_token_gets_a_page_and_creates_nothing(
    ph: SlackHarness, smtp: ScriptedSmtpServer
) -> None:
    await emailed_link(ph, smtp)

    class SignedLongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - MAX_AGE_S - 60

    secret = pay_link_secret(ph.runtime.settings)
    assert secret is not None
    async with ph.runtime.db.sessions() as session:
        case_id = await session.scalar(select(Case.id).where(Case.invoice_id == "in_std"))
    old = URLSafeTimedSerializer(secret, salt=SALT, signer=SignedLongAgo).dumps([case_id, "in_std"])

    response = await ph.http.get(f"/r/{old}")

    assert response.status_code == 410 and "expired" in response.text
    assert ph.stripe.requests_to(PORTAL, method="POST") == []


async def test_paid_or_closed_case_gets_a_page_and_creates_nothing(
    ph: SlackHarness, smtp: ScriptedSmtpServer
) -> None:
    link = await emailed_link(ph, smtp)
    await ph.pay("in_std")
    async with ph.runtime.db.sessions() as session:
        status = await session.scalar(select(Case.status).where(Case.invoice_id == "in_std"))
    assert status == CaseStatus.PAID

    paid = await ph.http.get(link.removeprefix(PUBLIC_URL))
    assert paid.status_code == 410 and "already paid" in paid.text

    async with ph.runtime.db.transaction() as session:
        await session.execute(update(Case).values(status=CaseStatus.VOIDED))
    voided = await ph.http.get(link.removeprefix(PUBLIC_URL))
    assert voided.status_code == 410 and "no longer" in voided.text
    assert ph.stripe.requests_to(PORTAL, method="POST") == []


async def test_stripe_failure_gets_a_retry_page(ph: SlackHarness, smtp: ScriptedSmtpServer) -> None:
    link = await emailed_link(ph, smtp)
    ph.stripe.fail_next(2, status=500, path_prefix=PORTAL)

    response = await ph.http.get(link.removeprefix(PUBLIC_URL))

    assert response.status_code == 503 and "try again" in response.text
    assert ph.stripe.portal_sessions() == []
