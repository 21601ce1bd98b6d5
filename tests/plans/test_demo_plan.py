"""The demo: the standard annual subscriber's failed invoice follows the example file's annual
plan, and the sandbox's "Advance 7 days" brings its first retry."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from bot.sandbox.billing import DEMO_ANNUAL_INVOICE
from bot.wiring import build_worker
from storage.models import AuditEntry, CasePlan, CasePlanStatus
from tests.sandbox.conftest import served_demo as served_demo  # noqa: F401 - a fixture


async def _plan(app: Any) -> CasePlan | None:
    async with app.state.runtime.db.sessions() as session:
        return await session.scalar(
            select(CasePlan).where(CasePlan.invoice_id == DEMO_ANNUAL_INVOICE)
        )


async def test_the_demos_annual_subscriber_is_on_the_annual_plan(
    served_demo: tuple[httpx.AsyncClient, Any],  # noqa: F811 - the fixture
) -> None:
    client, app = served_demo
    response = await client.post(
        "/sandbox/api/billing", json={"invoice_id": DEMO_ANNUAL_INVOICE, "action": "fail"}
    )
    assert response.status_code == 200, response.text
    await build_worker(app.state.runtime).run_until_idle()

    plan = await _plan(app)
    assert plan is not None and plan.plan_name == "annual"
    assert plan.status == CasePlanStatus.RETRYING and plan.retries_done == 0

    for _ in range(2):  # retry 1 is 7.5 days after the failure
        answer = await client.post(
            "/sandbox/api/advance", json={"invoice_id": DEMO_ANNUAL_INVOICE, "days": 7}
        )
        assert answer.status_code == 200, answer.text
        await build_worker(app.state.runtime).run_until_idle()

    plan = await _plan(app)
    assert plan is not None and plan.retries_done >= 1
    async with app.state.runtime.db.sessions() as session:
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert {"plan_assigned"} <= set(actions)
    assert {"plan_retry_declined", "plan_retry_paid"} & set(actions)
