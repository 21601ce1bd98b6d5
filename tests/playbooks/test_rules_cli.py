"""`dunbot rules check|test`, and `serve` refusing an invalid rules file with the same message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from storage.migrate import upgrade
from tests.conftest import REPO_ROOT
from tests.playbooks.rules_text import LARGE_PAYMENT

BROKEN = LARGE_PAYMENT.replace("'amount >", "'amout >").replace(
    "payment_intent.succeeded", "payment_intent.succeeded"
)


@pytest.fixture
def workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("PLAYBOOKS_FILE", "STRIPE_API_KEY", "STRIPE_READ_ONLY", "PLAYBOOKS_DRY_RUN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DUNBOT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/dunbot.db")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_check_passes_the_example_file_and_lists_write_permissions(workdir: Path) -> None:
    result = CliRunner().invoke(
        app, ["rules", "check", "--file", str(REPO_ROOT / "playbooks.example.toml")]
    )
    assert result.exit_code == 0, result.output
    assert "11 rule(s), 11 enabled — OK" in result.output
    assert (
        "[plan] annual: 8 retries over 60 days; emails after retries 2, 5, 8; 7 days of grace; "
        "then cancel the subscription and mark the invoice uncollectible (close-out approval)"
    ) in result.output
    assert "needs Stripe write permission Invoices, Subscriptions: plan annual" in result.output
    assert "needs Stripe write permission Refunds: Early fraud warning: refund" in result.output


def test_check_prints_each_problem_with_its_line_and_fails(workdir: Path) -> None:
    path = workdir / "playbooks.toml"
    path.write_text(BROKEN)
    result = CliRunner().invoke(app, ["rules", "check"])  # ./playbooks.toml is the default
    assert result.exit_code == 1
    assert (
        'playbooks.toml:6: rule "Large payment": "amout" is not a field of a payment intent '
        "(did you mean amount?)"
    ) in result.output


def test_check_without_any_file_says_how_to_get_one(workdir: Path) -> None:
    result = CliRunner().invoke(app, ["rules", "check"])
    assert result.exit_code == 2
    assert "playbooks.example.toml" in result.output


def test_rules_test_shows_matches_failed_conditions_and_actions(workdir: Path) -> None:
    event = {
        "id": "evt_1",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": "pi_1",
                "object": "payment_intent",
                "amount": 150000,
                "currency": "usd",
                "customer": "cus_9",
            }
        },
    }
    (workdir / "event.json").write_text(json.dumps(event))
    result = CliRunner().invoke(
        app,
        [
            "rules",
            "test",
            "--event",
            "event.json",
            "--file",
            str(REPO_ROOT / "playbooks.example.toml"),
        ],
        env={"TEAM_EMAIL": "team@example.com", "SLACK_APPROVALS_CHANNEL": "CAPPROVE"},
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "✓ Large payment: thank-you note" in lines[2]
    assert lines[3].startswith("    1. post to the alerts channel (CAPPROVE): Payment of $1,500.00")
    assert "customer cus_9" in lines[3]
    assert (
        lines[4] == "    2. email team@example.com: Thank-you note for cus_9: payment of $1,500.00"
    )
    assert lines[5].startswith("✗ Very large payment: mark VIP")
    assert 'condition failed: amount > "2000.00 USD" — amount is $1,500.00' in lines[5]


def test_rules_test_refuses_a_file_that_is_not_an_event(workdir: Path) -> None:
    (workdir / "event.json").write_text(json.dumps({"id": "pi_1", "object": "payment_intent"}))
    result = CliRunner().invoke(
        app,
        [
            "rules",
            "test",
            "--event",
            "event.json",
            "--file",
            str(REPO_ROOT / "playbooks.example.toml"),
        ],
    )
    assert result.exit_code == 2 and "is not a Stripe event" in result.output


def test_serve_refuses_an_invalid_rules_file_with_the_same_message(workdir: Path) -> None:
    upgrade(f"sqlite+aiosqlite:///{workdir}/dunbot.db")
    (workdir / "rules.toml").write_text(BROKEN)
    # With a Stripe key: without one, serve stops on the key before reading anything else.
    env = {"PLAYBOOKS_FILE": "rules.toml", "LOG_FORMAT": "console", "STRIPE_API_KEY": "sk_test_x"}
    check = CliRunner().invoke(app, ["rules", "check"], env=env)
    serve = CliRunner().invoke(app, ["serve"], env=env)
    assert serve.exit_code == 2
    problem = 'rules.toml:6: rule "Large payment": "amout" is not a field of a payment intent'
    assert problem in check.output and problem in serve.output


def test_serve_refuses_writing_rules_with_a_restricted_key(workdir: Path) -> None:
    upgrade(f"sqlite+aiosqlite:///{workdir}/dunbot.db")
    env = {
        "PLAYBOOKS_FILE": str(REPO_ROOT / "playbooks.example.toml"),
        "STRIPE_API_KEY": "rk_test_readonly",
        "LOG_FORMAT": "console",
    }
    serve = CliRunner().invoke(app, ["serve"], env=env)
    assert serve.exit_code == 2
    assert 'rule "Early fraud warning: refund" writes to Stripe (Refunds: write)' in serve.output
    assert 'rule "Very large payment: mark VIP" writes to Stripe (Customers: write)' in serve.output


def test_dunbot_check_lists_write_permissions_and_refuses_a_read_only_key(workdir: Path) -> None:
    env = {
        "PLAYBOOKS_FILE": str(REPO_ROOT / "playbooks.example.toml"),
        "STRIPE_API_KEY": "rk_test_readonly",
        "STRIPE_API_BASE": "http://127.0.0.1:9",
    }
    result = CliRunner().invoke(app, ["check"], env=env)
    assert result.exit_code == 1
    assert "Stripe write permission Refunds: MISSING (read-only key)" in result.output
    assert 'rule "Early fraud warning: refund" writes to Stripe (Refunds: write)' in result.output
    writable = CliRunner().invoke(app, ["check"], env=env | {"STRIPE_READ_ONLY": "false"})
    assert "Stripe write permission Customers: needed" in writable.output
    assert "writes to Stripe" not in writable.output


def test_rules_test_rereads_the_charge_from_stripe(workdir: Path) -> None:
    from tests.fakes.stripe_server import DEFAULT_API_KEY, FakeStripe

    event = {
        "id": "evt_efw",
        "type": "radar.early_fraud_warning.created",
        "data": {
            "object": {"id": "issfr_1", "object": "radar.early_fraud_warning", "charge": "ch_9"}
        },
    }
    (workdir / "event.json").write_text(json.dumps(event))
    with FakeStripe() as stripe:
        stripe.add_charge(id="ch_9", amount=1_200)
        result = CliRunner().invoke(
            app,
            [
                "rules",
                "test",
                "--event",
                "event.json",
                "--file",
                str(REPO_ROOT / "playbooks.example.toml"),
            ],
            env={"STRIPE_API_KEY": DEFAULT_API_KEY, "STRIPE_API_BASE": stripe.base_url},
        )
        assert stripe.requests_to("/v1/refunds", method="POST") == []  # a test never writes
    assert result.exit_code == 0, result.output
    assert "✓ Early fraud warning: refund" in result.output
    assert "1. refund charge ch_9 in full ($12.00)" in result.output
