"""`dunbot draft --invoice in_…`: a dry run against Stripe that sends nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.fakes.stripe_server import DEFAULT_API_KEY, FakeStripe


@pytest.fixture
def stripe_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeStripe]:
    with FakeStripe() as stripe:
        monkeypatch.setenv("STRIPE_API_KEY", DEFAULT_API_KEY)
        monkeypatch.setenv("STRIPE_API_BASE", stripe.base_url)
        monkeypatch.setenv("LLM_PROVIDER", "template")
        monkeypatch.setenv("COMPANY_NAME", "Acme")
        monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/unused.db")
        monkeypatch.setenv("DUNBOT_CONFIG", str(tmp_path / "none.toml"))
        yield stripe


def test_draft_prints_segment_draft_and_rendered_email(stripe_env: FakeStripe) -> None:
    stripe_env.add_customer(
        id="cus_fr", email="marie@example.com", name="Marie", preferred_locales=["fr-FR"]
    )
    stripe_env.add_invoice(
        id="in_fr",
        customer="cus_fr",
        currency="eur",
        amount_due=4_900,
        attempt_count=1,
        next_payment_attempt=2_000_000_000,
    )
    stripe_env.add_failed_payment("in_fr", decline_code="insufficient_funds")
    result = CliRunner().invoke(app, ["draft", "--invoice", "in_fr"])
    assert result.exit_code == 0, result.output
    assert "segment: standard" in result.output
    assert "To: marie@example.com" in result.output
    assert "49,00 €" in result.output
    assert "https://invoice.stripe.com/i/acct_fake/in_fr" in result.output
    assert [r.method for r in stripe_env.requests] == ["GET"] * len(stripe_env.requests)


def test_draft_of_unknown_invoice_says_so(stripe_env: FakeStripe) -> None:
    result = CliRunner().invoke(app, ["draft", "--invoice", "in_missing"])
    assert result.exit_code == 1
    assert "Stripe has no invoice in_missing" in result.output


def test_draft_rejects_a_non_invoice_id(stripe_env: FakeStripe) -> None:
    result = CliRunner().invoke(app, ["draft", "--invoice", "cus_123"])
    assert result.exit_code == 2 and "not an invoice id" in result.output
