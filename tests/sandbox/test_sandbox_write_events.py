"""Stripe sends an event for dunbot's own writes too: in the demo, a write to the sandbox
billing (a plan's close-out, its retry) reaches dunbot's webhook like any other event."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from bot.sandbox.billing import DEMO_INVOICES
from bot.wiring import build_worker
from storage.models import Case, CaseStatus, StripeEventRow


async def test_marking_uncollectible_reaches_the_webhook_and_closes_the_case(
    served_demo: tuple[httpx.AsyncClient, Any],
) -> None:
    client, app = served_demo
    invoice = DEMO_INVOICES["standard_fr"]
    response = await client.post(
        "/sandbox/api/billing", json={"invoice_id": invoice, "action": "fail"}
    )
    assert response.status_code == 200
    worker = build_worker(app.state.runtime)
    await worker.run_until_idle()
    billing = app.state.sandbox.billing

    await billing.mark_invoice_uncollectible(invoice, idempotency_key="close-1")
    await billing.mark_invoice_uncollectible(invoice, idempotency_key="close-1")  # replayed
    await app.state.sandbox_write_events.drain()
    await worker.run_until_idle()

    async with app.state.runtime.db.sessions() as session:
        case = await session.scalar(select(Case).where(Case.invoice_id == invoice))
        stored = (await session.scalars(select(StripeEventRow.type))).all()
    assert case is not None and case.status == CaseStatus.UNCOLLECTIBLE
    assert stored.count("invoice.marked_uncollectible") == 1
