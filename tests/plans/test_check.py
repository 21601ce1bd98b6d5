"""`dunbot check` warns when Stripe would retry an invoice a dunning plan retries too."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Case, CasePlan, CasePlanStatus
from tests.conftest import REPO_ROOT
from tests.fakes.stripe_server import DEFAULT_API_KEY, FakeStripe


@pytest.fixture
def stripe() -> Iterator[FakeStripe]:
    with FakeStripe() as server:
        yield server


async def on_plan(url: str, invoice: str) -> None:
    db = Database(url)
    async with db.transaction() as session:
        case = Case(invoice_id=invoice, customer_id="cus_x", currency="usd", amount_due=9_900,
                    amount_remaining=9_900)  # fmt: skip
        session.add(case)
        await session.flush()
        session.add(
            CasePlan(
                case_id=case.id,
                invoice_id=invoice,
                customer_id="cus_x",
                plan_name="annual",
                assigned_by="rule",
                retries_total=8,
                status=CasePlanStatus.RETRYING,
                closed_steps=[],
            )  # fmt: skip
        )
    await db.dispose()


def test_check_warns_about_invoices_stripe_would_retry_too(
    stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/dunbot.db"
    upgrade(url)
    stripe.add_customer(id="cus_x")
    stripe.add_invoice(
        id="in_both", customer="cus_x", attempt_count=1, next_payment_attempt=1_900_000_000
    )
    stripe.add_invoice(id="in_plan_only", customer="cus_x", attempt_count=1)
    for invoice in ("in_both", "in_plan_only"):
        asyncio.run(on_plan(url, invoice))
    for name, value in {
        "DUNBOT_CONFIG": str(tmp_path / "none.toml"),
        "DATABASE_URL": url,
        "STRIPE_API_KEY": DEFAULT_API_KEY,
        "STRIPE_API_BASE": stripe.base_url,
        "PLAYBOOKS_FILE": str(REPO_ROOT / "playbooks.example.toml"),
    }.items():
        monkeypatch.setenv(name, value)

    output = CliRunner().invoke(app, ["check"]).output

    assert "dunning plans retrying payments: annual" in output
    assert "WARNING: Stripe will retry in_both on 2030-03-17" in output
    assert "in_plan_only" not in output
    assert "checked 2 invoice(s) on a plan: 1 with a Stripe retry scheduled" in output
