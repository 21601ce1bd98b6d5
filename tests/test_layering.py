"""The layout's import rules (docs/architecture.md): storage and prompts import nothing of ours
but themselves; recovery never imports bot nor an SDK client; the command line and the wiring
import a provider's SDK only when that provider is configured."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

OURS = {"bot", "recovery", "prompts", "storage"}
ALLOWED = {
    "storage": {"storage"},
    "prompts": {"prompts"},
    "recovery": {"recovery", "storage", "prompts"},
    "bot": OURS,
}
SDK_CLIENTS = {
    "stripe",
    "openai",
    "anthropic",
    "aiosmtplib",
    "slack_sdk",
    "slack_bolt",
    "twilio",
}
OPTIONAL_SDKS = {"openai", "anthropic", "aiosmtplib", "twilio"}


def imported_top_levels(path: Path) -> set[str]:
    """Every top-level package a module imports (anywhere in it, lazy imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".")[0] for name in names}
    return found


def imported_packages(path: Path) -> set[str]:
    """Our top-level packages a module imports (anywhere in it, lazy imports included)."""
    return imported_top_levels(path) & OURS


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_the_layout_allows(package: str) -> None:
    offenders = {
        str(path.relative_to(REPO_ROOT)): sorted(imported_packages(path) - ALLOWED[package])
        for path in (REPO_ROOT / package).rglob("*.py")
        if imported_packages(path) - ALLOWED[package]
    }
    assert offenders == {}


def test_recovery_imports_no_sdk_client() -> None:
    offenders = {
        str(path.relative_to(REPO_ROOT)): sorted(imported_top_levels(path) & SDK_CLIENTS)
        for path in (REPO_ROOT / "recovery").rglob("*.py")
        if imported_top_levels(path) & SDK_CLIENTS
    }
    assert offenders == {}


def test_cli_and_wiring_leave_optional_sdks_unimported() -> None:
    probe = (
        "import sys, bot.cli, bot.wiring, bot.adapters.llm.factory, bot.adapters.mail.factory; "
        f"print(sorted({{m.partition('.')[0] for m in sys.modules}} & {set(OPTIONAL_SDKS)!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == "[]"
