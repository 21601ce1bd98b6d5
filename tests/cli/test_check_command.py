"""`dunbot check`: says what is missing and how to fix it; reaches each configured service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from storage.migrate import upgrade
from tests.fakes.slack_server import FakeSlack
from tests.fakes.stripe_server import DEFAULT_API_KEY, FakeStripe


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in (
        "STRIPE_API_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "FINANCE_APPROVERS",
        "ACCOUNT_MANAGERS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DUNBOT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/dunbot.db")
    return tmp_path


@pytest.fixture
def services() -> Iterator[tuple[FakeStripe, FakeSlack]]:
    with FakeStripe() as stripe, FakeSlack() as slack:
        yield stripe, slack


def test_empty_configuration_lists_every_problem_with_a_fix(clean_env: Path) -> None:
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 1
    for expected in (
        "STRIPE_API_KEY is not set",
        "STRIPE_WEBHOOK_SECRET is not set",
        "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET",
        "FINANCE_APPROVERS is empty",
        "run `dunbot db upgrade`",
    ):
        assert expected in result.output


def test_complete_configuration_reaching_every_service_passes(
    clean_env: Path, services: tuple[FakeStripe, FakeSlack], monkeypatch: pytest.MonkeyPatch
) -> None:
    stripe, slack = services
    upgrade(f"sqlite+aiosqlite:///{clean_env}/dunbot.db")
    for name, value in {
        "STRIPE_API_KEY": DEFAULT_API_KEY,
        "STRIPE_API_BASE": stripe.base_url,
        "STRIPE_WEBHOOK_SECRET": "whsec_x",
        "SLACK_BOT_TOKEN": "xoxb-check",
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_API_URL": slack.base_url,
        "SLACK_APPROVALS_CHANNEL": "C1",
        "SLACK_VIP_CHANNEL": "C2",
        "FINANCE_APPROVERS": "U1",
        "ACCOUNT_MANAGERS": "U2",
    }.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert "database: OK" in result.output and "stripe: OK" in result.output
    assert "slack: OK" in result.output and "configuration OK" in result.output
    assert [c.method for c in slack.calls] == ["auth.test"]


def test_wrong_stripe_key_is_reported(
    clean_env: Path, services: tuple[FakeStripe, FakeSlack], monkeypatch: pytest.MonkeyPatch
) -> None:
    stripe, _ = services
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_wrong_key_123")
    monkeypatch.setenv("STRIPE_API_BASE", stripe.base_url)
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 1
    assert "stripe: FAILED" in result.output and "STRIPE_API_KEY" in result.output
    assert "sk_test_wrong_key_123" not in result.output


def test_invalid_value_is_a_clear_configuration_error(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_PROVIDER", "gpt-banana")
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 2
    assert "LLM_PROVIDER" in result.output and ".env.example" in result.output


async def test_smtp_server_is_reached_and_a_closed_port_reported(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.checks import run_checks
    from bot.settings import Settings
    from tests.fakes.smtp_server import ScriptedSmtpServer

    async with ScriptedSmtpServer() as smtp:
        settings = Settings(
            email_backend="smtp", smtp_host=smtp.host, smtp_port=smtp.port, smtp_tls="false"
        )
        lines: list[str] = []
        await run_checks(settings, echo=lines.append)
        assert "smtp: OK" in lines
        assert smtp.connection_count == 1 and smtp.messages == []
    lines = []
    await run_checks(settings, echo=lines.append)  # the server is gone now
    assert "smtp: FAILED" in lines
    assert any("SMTP_HOST" in line for line in lines)


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_explain_a_missing_setting_instead_of_crashing(
    clean_env: Path, command: str
) -> None:
    upgrade(f"sqlite+aiosqlite:///{clean_env}/dunbot.db")
    result = CliRunner().invoke(app, [command])
    assert result.exit_code == 2
    assert "Cannot start: STRIPE_API_KEY is not set" in result.output
    assert "dunbot check" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    "url", ["not a url", "postgresql+asyncpg://user:pw@host:notaport/db", "nosuchdriver://x"]
)
def test_a_malformed_database_url_is_one_line(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "pw" not in result.output
    [line] = [line for line in result.output.splitlines() if "DATABASE_URL" in line]
    assert "not a database URL" in line or "cannot be used" in line


def test_check_creates_no_database_file(clean_env: Path) -> None:
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 1
    assert "database: FAILED" in result.output
    assert "does not exist: run `dunbot db upgrade`" in result.output
    assert not (clean_env / "dunbot.db").exists()


def test_services_not_configured_are_never_ok(clean_env: Path) -> None:
    result = CliRunner().invoke(app, ["check"])
    for service in ("stripe", "slack", "smtp"):
        assert f"{service}: not configured" in result.output
        assert f"{service}: OK" not in result.output


def test_a_weak_dashboard_token_is_a_problem(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASHBOARD_TOKEN", "short-token")
    weak = CliRunner().invoke(app, ["check"])
    assert "DASHBOARD_TOKEN is only 11 characters" in weak.output
    assert "short-token" not in weak.output
    monkeypatch.setenv("DASHBOARD_TOKEN", "a-long-enough-token-0123")
    assert "DASHBOARD_TOKEN" not in CliRunner().invoke(app, ["check"]).output
