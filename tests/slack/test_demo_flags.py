"""The demo's Slack cards know billing is a sandbox (no Stripe dashboard to link to)."""

from __future__ import annotations

from typing import Any

from bot.runtime import SlackParts
from bot.settings import Settings
from bot.wiring import build_slack
from storage.db import Database


def slack_parts(**settings: Any) -> SlackParts:
    values: dict[str, Any] = {
        "database_url": "sqlite+aiosqlite:///:memory:",
        "slack_bot_token": "xoxb-test",
        "slack_signing_secret": "secret-for-tests",
        "llm_provider": "template",
    }
    values.update(settings)
    config = Settings(**values)
    parts = build_slack(config, Database(config.database_url), livemode=False)
    assert parts is not None
    return parts


def test_demo_cards_do_not_link_to_the_stripe_dashboard() -> None:
    assert slack_parts(environment="demo").notifier.stripe_dashboard is False
    assert slack_parts(environment="production").notifier.stripe_dashboard is True
