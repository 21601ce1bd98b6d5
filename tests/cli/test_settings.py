"""Settings: environment over dunbot.toml, and .env.example documents every setting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.wiring import recovery_config
from tests.conftest import REPO_ROOT


def test_env_example_documents_every_setting() -> None:
    text = (REPO_ROOT / ".env.example").read_text()
    documented = {m.lower() for m in re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.M)}
    assert set(Settings.model_fields) - documented == {"vip_ltv_thresholds"}
    assert "[vip_ltv_thresholds]" in text  # the per-currency map lives in dunbot.toml
    assert documented <= set(Settings.model_fields)


def test_toml_holds_per_currency_thresholds_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "dunbot.toml"
    config.write_text(
        'company_name = "From Toml"\nvip_ltv_threshold = 100\n'
        "[vip_ltv_thresholds]\nEUR = 450000\njpy = 750000\n"
    )
    monkeypatch.setenv("DUNBOT_CONFIG", str(config))
    monkeypatch.setenv("COMPANY_NAME", "From Env")
    monkeypatch.setenv("FINANCE_APPROVERS", "U1, U2 ,")
    monkeypatch.setenv("VIP_CLAIM_SLA", "90m")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db/dunbot")
    settings = Settings()
    assert settings.company_name == "From Env"
    assert settings.vip_ltv_threshold == 100
    thresholds = recovery_config(settings).vip_thresholds
    assert thresholds.ltv_threshold("eur") == 450000
    assert thresholds.ltv_threshold("jpy") == 750000 and thresholds.ltv_threshold("usd") == 100
    assert settings.finance_approvers == ["U1", "U2"]
    assert settings.vip_claim_sla == 5400
    assert settings.database_url == "postgresql+asyncpg://u:p@db/dunbot"
