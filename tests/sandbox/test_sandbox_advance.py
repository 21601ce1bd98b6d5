"""`POST /sandbox/api/advance`: time passes 7 days for one invoice. Its queued dunbot jobs come
due (whatever their kind), Stripe's events of that window are sent, other invoices keep their
time, and the route exists only in the demo."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import select

from bot.sandbox.billing import DEMO_INVOICES
from bot.sandbox.demo import VIP_CHANNEL
from bot.settings import Settings
from bot.wiring import build_app, build_worker
from recovery.jobkinds import JobKind
from storage.models import Job, JobStatus, utcnow


async def _fail(client: httpx.AsyncClient, app: Any, role: str) -> None:
    response = await client.post(
        "/sandbox/api/billing", json={"invoice_id": DEMO_INVOICES[role], "action": "fail"}
    )
    assert response.status_code == 200, response.text
    await build_worker(app.state.runtime).run_until_idle()


async def _advance(client: httpx.AsyncClient, role: str) -> dict[str, Any]:
    response = await client.post(
        "/sandbox/api/advance", json={"invoice_id": DEMO_INVOICES[role], "days": 7}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _reminders(app: Any) -> dict[str, Job]:
    """The VIP claim reminder job of each invoice, by invoice id."""
    async with app.state.runtime.db.sessions() as session:
        jobs = await session.scalars(select(Job).where(Job.kind == JobKind.VIP_CLAIM_REMINDER))
        return {str(job.serial_key).removeprefix("invoice:"): job for job in jobs.all()}


async def test_advancing_one_invoice_runs_its_waiting_reminder_and_no_other(
    served_demo: tuple[httpx.AsyncClient, Any],
) -> None:
    client, app = served_demo
    await _fail(client, app, "vip_ltv")
    await _fail(client, app, "vip_amount")
    waiting = await _reminders(app)  # each VIP task's claim reminder, due in 10 minutes
    assert {job.status for job in waiting.values()} == {JobStatus.QUEUED}
    assert all(job.run_at > utcnow() for job in waiting.values())
    threads_before = len(app.state.sandbox.slack.messages.get(VIP_CHANNEL, []))

    answer = await _advance(client, "vip_ltv")

    assert answer["now_due"] == [JobKind.VIP_CLAIM_REMINDER]
    assert answer["still_waiting"] == []
    assert answer["events"] == ["invoice.payment_failed"]  # Stripe's retry 3 days in
    assert "now due: vip claim reminder" in answer["text"]
    await build_worker(app.state.runtime).run_until_idle()
    async with app.state.runtime.db.sessions() as session:
        errors = (
            await session.scalars(select(Job.last_error).where(Job.last_error.is_not(None)))
        ).all()
    assert errors == []
    after = await _reminders(app)
    assert after[DEMO_INVOICES["vip_ltv"]].status == JobStatus.SUCCEEDED
    other = after[DEMO_INVOICES["vip_amount"]]
    assert (other.status, other.run_at) == (
        JobStatus.QUEUED,
        waiting[DEMO_INVOICES["vip_amount"]].run_at,
    )
    reminders = app.state.sandbox.slack.messages[VIP_CHANNEL][threads_before:]
    assert len(reminders) == 1 and reminders[0].thread_ts  # in the task card's thread

    page = (await client.get("/sandbox/state", params={"user": "UFINANCE"})).json()
    assert "+7d" in page["billing"] and "Team · monthly" in page["billing"]


async def test_passing_the_due_date_sends_invoice_overdue_to_the_playbooks(
    served_demo: tuple[httpx.AsyncClient, Any],
) -> None:
    client, app = served_demo
    assert (await _advance(client, "vip_amount"))["events"] == []  # due in 14 days
    # The due date passes at the end of the second week (seconds after the seed), or in the
    # third: Stripe says so once.
    answers = [await _advance(client, "vip_amount") for _ in range(2)]

    assert [e for answer in answers for e in answer["events"]] == ["invoice.overdue"]
    assert {answer["status"] for answer in answers} == {200}
    await build_worker(app.state.runtime).run_until_idle()
    invoice = DEMO_INVOICES["vip_amount"]
    posted = [
        message
        for messages in app.state.sandbox.slack.messages.values()
        for message in messages
        if invoice in json.dumps(message.blocks) + message.text
    ]
    assert len(posted) == 1  # "Overdue > 500 USD → collections", once


async def test_bad_requests_get_clear_errors(served_demo: tuple[httpx.AsyncClient, Any]) -> None:
    client, app = served_demo
    unknown = await client.post("/sandbox/api/advance", json={"invoice_id": "in_nope"})
    assert unknown.status_code == 409 and "in_nope" in unknown.json()["error"]
    backwards = await client.post(
        "/sandbox/api/advance", json={"invoice_id": DEMO_INVOICES["vip_ltv"], "days": 0}
    )
    assert backwards.status_code == 422
    # Another site can post text/plain without a preflight; the body is then not JSON and
    # is refused before the handler runs (only same-origin scripts can send JSON).
    cross_site = await client.post(
        "/sandbox/api/advance",
        content=json.dumps({"invoice_id": DEMO_INVOICES["vip_ltv"]}),
        headers={"content-type": "text/plain"},
    )
    assert cross_site.status_code == 422
    billing = app.state.sandbox.billing
    assert all(billing.advanced_by(invoice).days == 0 for invoice in DEMO_INVOICES.values())


async def test_production_serve_has_no_advance_route(database_url: str) -> None:
    settings = Settings(
        database_url=database_url,
        stripe_api_key="sk_test_sandclock",
        stripe_webhook_secret="whsec_test_0123456789",
        environment="test",
    )
    app = build_app(settings, run_worker=False)
    assert not [r for r in app.routes if getattr(r, "path", "").startswith("/sandbox")]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://dunbot.test"
    ) as client:
        response = await client.post(
            "/sandbox/api/advance", json={"invoice_id": DEMO_INVOICES["vip_ltv"]}
        )
    assert response.status_code == 404
    await app.state.runtime.db.dispose()
