"""The demo runs the example playbooks: sandbox buttons fire a large payment and early fraud
warnings, and the sandbox billing records the metadata change and the refund."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.sandbox.billing import DEMO_INVOICES
from bot.sandbox.demo import FINANCE, build_demo_app, demo_settings
from bot.wiring import build_worker

PORT = 8765


@pytest.fixture
async def demo(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    settings = demo_settings(
        port=PORT, database_url=database_url, email_outbox_dir=tmp_path / "outbox"
    )
    app = build_demo_app(settings, port=PORT, configure_logs=False)
    runtime = app.state.runtime
    assert [r.name for r in runtime.playbook.rules if r.enabled]  # the examples are on
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=f"http://127.0.0.1:{PORT}"
    ) as client:
        yield client, app
    await runtime.db.dispose()


async def press(client: httpx.AsyncClient, app: Any, action: str) -> None:
    response = await client.post(
        "/sandbox/api/billing",
        json={"invoice_id": DEMO_INVOICES["standard_en"], "action": action},
    )
    assert response.status_code == 200, response.text
    await build_worker(app.state.runtime).run_until_idle()


async def test_small_fraud_warning_is_refunded_in_the_sandbox(demo: Any) -> None:
    client, app = demo
    await press(client, app, "fraud_small")
    billing = app.state.sandbox.billing
    [write] = billing.playbook_writes
    assert write["kind"] == "refund" and write["amount"] == 1_200
    page = await client.get("/sandbox/state", params={"user": FINANCE})
    assert "last change: refund of $12.00" in page.text


async def test_large_payment_marks_the_customer_vip_in_the_sandbox(demo: Any) -> None:
    client, app = demo
    await press(client, app, "large_payment")
    billing = app.state.sandbox.billing
    customer = billing.invoice(DEMO_INVOICES["standard_en"])["customer"]
    assert billing.customer(customer)["metadata"]["dunbot_tier"] == "vip"
    assert {"kind": "metadata", "customer": customer, "metadata": {"dunbot_tier": "vip"}} in (
        billing.playbook_writes
    )


async def test_dashboard_shows_firings_and_actions_per_rule(demo: Any) -> None:
    client, app = demo
    await press(client, app, "fraud_small")
    await press(client, app, "fraud_large")  # waits for the Refund button
    page = (await client.get("/dashboard")).text
    section = page[page.index('id="playbooks"') :]
    row = section[section.index("Early fraud warning: refund") :].split("</tr>")[0]
    cells = [c.split(">")[-1] for c in row.split("</td>")[:-1]]
    assert cells == ["on", "2 / 2", "1", "1", "0", "0"]
