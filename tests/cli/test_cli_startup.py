"""A fast, plain CLI: the provider SDKs load only when a command uses them; help without type
noise. (How fast is measured in bench/cli_startup.py, not here.)"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from bot.cli import app
from tests.conftest import REPO_ROOT

SDKS = ["openai", "anthropic", "stripe", "slack_sdk", "slack_bolt", "twilio", "aiosmtplib"]

_PROBE = """
import json, sys
from bot.cli import app
codes = {}
for args in %r:
    try:
        app(args, prog_name="dunbot")
    except SystemExit as exit:
        codes[" ".join(args)] = exit.code
print(json.dumps({"codes": codes, "loaded": [m for m in %r if m in sys.modules]}))
"""


def _probe(commands: list[list[str]], tmp_path: Path) -> dict[str, object]:
    """Run `commands` in a fresh interpreter without configuration; what exited how, and
    which SDKs got imported."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith(("_API_KEY", "_TOKEN", "_SECRET")) and key != "DATABASE_URL"
    }
    env |= {"DUNBOT_CONFIG": str(tmp_path / "absent.toml"), "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE % (commands, SDKS)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    probe: dict[str, object] = json.loads(result.stdout.splitlines()[-1])
    return probe


@pytest.mark.slow
def test_importing_the_cli_imports_no_provider_sdk(tmp_path: Path) -> None:
    assert _probe([], tmp_path) == {"codes": {}, "loaded": []}


@pytest.mark.slow
def test_help_and_configuration_errors_import_no_provider_sdk(tmp_path: Path) -> None:
    outcome = _probe(
        [["--help"], ["draft", "--help"], ["draft", "--invoice", "in_1"], ["serve"], ["worker"]],
        tmp_path,
    )

    assert outcome["codes"] == {
        "--help": 0,
        "draft --help": 0,
        "draft --invoice in_1": 2,  # STRIPE_API_KEY is not set
        "serve": 2,
        "worker": 2,
    }
    assert outcome["loaded"] == []


def test_a_missing_key_is_named_before_anything_else_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("STRIPE_API_KEY", "OPENAI_API_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DUNBOT_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.chdir(tmp_path)

    draft = CliRunner().invoke(app, ["draft", "--invoice", "in_1"])
    serve = CliRunner().invoke(app, ["serve"], env={"STRIPE_API_KEY": "sk_test_x"} | {
        "LLM_PROVIDER": "openai"
    })  # fmt: skip

    assert draft.exit_code == 2 and "STRIPE_API_KEY is not set" in draft.output
    assert serve.exit_code == 2 and "LLM_PROVIDER=openai needs OPENAI_API_KEY" in serve.output
    assert not (tmp_path / "dunbot.db").exists()  # stopped before touching the database


def _commands(group: Any, prefix: list[str]) -> list[list[str]]:
    """Every command path under a (typer's own click) group, the groups included."""
    found = [prefix]
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found += _commands(command, [*prefix, name])
        else:
            found.append([*prefix, name])
    return found


def test_every_help_is_plain_with_metavars_and_no_type_labels() -> None:
    commands = _commands(typer.main.get_command(app), [])
    assert ["draft"] in commands and ["jobs", "retry"] in commands and ["audit"] in commands

    for command in commands:
        result = CliRunner().invoke(app, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)
        options = [line for line in result.output.splitlines() if line.lstrip().startswith("-")]
        noisy = [line for line in options if re.search(r"<\w+>", line)]
        assert noisy == [], command
        assert "╭" not in result.output and "│" not in result.output  # no rich panels
    draft_help = CliRunner().invoke(app, ["draft", "--help"]).output
    assert re.search(r"--invoice ID\s+Stripe invoice id", draft_help)
    assert re.search(r"--help\s+Show this message", draft_help)
