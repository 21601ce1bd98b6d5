"""slack-manifest.yml agrees with the routes, ids and features the code relies on."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.slack.ids import SLASH_COMMAND

yaml = pytest.importorskip("yaml")  # PyYAML comes with uvicorn[standard]

MANIFEST = Path(__file__).resolve().parents[2] / "slack-manifest.yml"


def test_manifest() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    features, settings = manifest["features"], manifest["settings"]
    [command] = features["slash_commands"]
    assert command["command"] == SLASH_COMMAND
    assert "pause" in command["usage_hint"]
    assert features["app_home"]["home_tab_enabled"] is True
    urls = {
        command["url"],
        settings["interactivity"]["request_url"],
        settings["event_subscriptions"]["request_url"],
    }
    assert urls == {"https://YOUR-HOST/slack/events"}
    assert settings["interactivity"]["is_enabled"] is True
    assert "app_home_opened" in settings["event_subscriptions"]["bot_events"]
    assert settings["socket_mode_enabled"] is False
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # Least privilege: only what dunbot calls (chat.*, views.*, the slash command).
    assert scopes == {"chat:write", "chat:write.public", "commands"}
