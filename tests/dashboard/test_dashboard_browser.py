"""The dashboard in a real browser: uvicorn on a free port, Debian's chromium via Playwright.

Screenshots a month of made-up but plausible data. docs/screenshots/dashboard.png (committed)
is written when it is missing or DUNBOT_UPDATE_SCREENSHOTS=1, so ordinary runs leave the work
tree clean; every run keeps its own copy in the test's tmp_path.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import async_playwright, expect

from bot.settings import Settings
from recovery.money import format_amount
from storage.db import Database
from storage.models import CaseStatus, DraftStatus
from tests.conftest import REPO_ROOT
from tests.dashboard.conftest import DASHBOARD_TOKEN, dashboard_app
from tests.dashboard.seed import add_case, add_draft

pytestmark = pytest.mark.browser

SCREENSHOT = REPO_ROOT / "docs" / "screenshots" / "dashboard.png"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

_PRICES = {"usd": [4900, 2900, 9900], "eur": [2900, 3900], "jpy": [4900]}


async def _seed_month(db: Database, now: datetime) -> dict[str, int]:
    """A month of failures, approvals and recoveries; returns what was recovered per currency."""
    rng = random.Random(20260310)
    recovered: dict[str, int] = {}
    for days_ago in range(29, -1, -1):
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4])):
            created = now - timedelta(days=days_ago, hours=rng.randint(0, 8))
            currency = rng.choice(["usd", "usd", "usd", "eur", "eur", "jpy"])
            amount = rng.choice(_PRICES[currency])
            vip = rng.random() < 0.15
            paid_after = timedelta(days=rng.uniform(0.5, 6))
            paid = created + paid_after < now and rng.random() < 0.6
            status = (
                CaseStatus.PAID
                if paid
                else rng.choice(
                    [CaseStatus.OPEN] * 6
                    + [CaseStatus.PAUSED, CaseStatus.ESCALATED, CaseStatus.VOIDED]
                )
            )
            case_id = await add_case(
                db,
                created_at=created,
                status=status,
                segment="vip" if vip else "standard",
                currency=currency,
                amount_due=amount * (12 if vip else 1),
                resolved_at=created + paid_after if paid else now,
            )
            if paid:
                recovered[currency] = recovered.get(currency, 0) + amount * (12 if vip else 1)
            if vip:
                continue
            decided = created + timedelta(minutes=rng.randint(20, 300))
            if decided < now:
                outcome = rng.choice([DraftStatus.APPROVED] * 5 + [DraftStatus.REJECTED])
                await add_draft(
                    db,
                    case_id=case_id,
                    created_at=created + timedelta(minutes=1),
                    status=outcome,
                    decided_at=decided,
                    source=rng.choice(["ai", "ai", "ai", "template"]),
                    edited_by="U0FINANCE" if rng.random() < 0.2 else None,
                    cost_usd=0.0021,
                )
    return recovered


@pytest.fixture
async def server_url(database_url: str, db: Database) -> AsyncIterator[str]:
    """The dashboard app served by uvicorn on 127.0.0.1, a free port, in this event loop."""
    settings = Settings(
        database_url=database_url,
        environment="test",
        dashboard_token=DASHBOARD_TOKEN,
        company_name="Example Inc.",
    )
    config = uvicorn.Config(
        dashboard_app(settings, db), host="127.0.0.1", port=0, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


def _update_committed_screenshot() -> bool:
    return not SCREENSHOT.exists() or os.environ.get("DUNBOT_UPDATE_SCREENSHOTS") == "1"


async def test_dashboard_renders_in_chromium(
    server_url: str, db: Database, backend: str, tmp_path: Path
) -> None:
    recovered = await _seed_month(db, datetime.now(UTC))
    usd_recovered = format_amount(recovered["usd"], "usd", "en")

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            denied = await page.goto(f"{server_url}/dashboard")
            assert denied is not None and denied.status == 401
            await expect(page.get_by_role("heading", name="Access needed")).to_be_visible()

            response = await page.goto(f"{server_url}/dashboard?token={DASHBOARD_TOKEN}")
            assert response is not None and response.status == 200
            again = await page.goto(f"{server_url}/dashboard")  # the cookie is enough now
            assert again is not None and again.status == 200

            await expect(
                page.get_by_role("heading", name="Payment recovery dashboard")
            ).to_be_visible()
            await expect(page.locator("#card-recovered")).to_contain_text(usd_recovered)
            await expect(page.locator("#card-recovered .figure span").first).to_be_visible()
            chart = page.get_by_role("img", name="Failed payments per day, last 30 days")
            await expect(chart).to_be_visible()
            assert await page.locator("#chart-failures rect").count() == 30
            box = await chart.bounding_box()
            assert box is not None and box["width"] > 600 and box["height"] > 150
            await expect(page.get_by_role("table", name="Open cases by segment")).to_be_visible()

            shot = tmp_path / "dashboard.png"
            await page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            if backend == "sqlite" and _update_committed_screenshot():
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(shot, SCREENSHOT)
        finally:
            await browser.close()
