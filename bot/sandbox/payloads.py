"""Slack request bodies as Slack sends them: button clicks, modal submissions, slash commands."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from bot.sandbox.slack_api import BOT_USER_ID, TEAM_DOMAIN, TEAM_ID, SandboxMessage

APP_ID = "A0SANDBOX"
JsonObject = dict[str, Any]


def _team() -> JsonObject:
    return {"id": TEAM_ID, "domain": TEAM_DOMAIN}


def _user(user_id: str) -> JsonObject:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM_ID}


def _form(payload: Mapping[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def block_actions_body(
    *,
    user_id: str,
    message: SandboxMessage,
    button: JsonObject,
    block_id: str,
    trigger_id: str,
    channel_name: str,
    response_url: str,
) -> bytes:
    """A `block_actions` interaction: `user` clicked `button` on `message` (form field payload)."""
    payload: JsonObject = {
        "type": "block_actions",
        "user": _user(user_id),
        "api_app_id": APP_ID,
        "token": "sandbox-verification-token",
        "container": {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id,
        "team": _team(),
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": message.channel, "name": channel_name},
        "message": {**message.as_slack(), "user": BOT_USER_ID},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": button.get("action_id"),
                "block_id": block_id,
                "text": button.get("text") or {"type": "plain_text", "text": ""},
                "value": button.get("value"),
                "style": button.get("style"),
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    if button.get("style") is None:
        del payload["actions"][0]["style"]
    return _form(payload)


def view_submission_body(
    *, user_id: str, view: JsonObject, values: Mapping[str, Mapping[str, str]]
) -> bytes:
    """A `view_submission`: the open modal with `values` as `{block_id: {action_id: text}}`."""
    state = {
        block_id: {
            action_id: {"type": "plain_text_input", "value": text}
            for action_id, text in elements.items()
        }
        for block_id, elements in values.items()
    }
    submitted = {
        **view,
        "state": {"values": state},
        "hash": f"{int(time.time())}.sandbox",
        "root_view_id": view.get("id"),
        "app_id": APP_ID,
        "app_installed_team_id": TEAM_ID,
        "bot_id": "B0DUNBOT",
    }
    payload: JsonObject = {
        "type": "view_submission",
        "team": _team(),
        "user": _user(user_id),
        "api_app_id": APP_ID,
        "token": "sandbox-verification-token",
        "trigger_id": f"{int(time.time())}.view.sandbox",
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _form(payload)


def slash_command_body(
    *,
    command: str,
    text: str,
    user_id: str,
    channel_id: str,
    channel_name: str,
    trigger_id: str,
    response_url: str,
) -> bytes:
    """A slash command invocation, form-encoded like Slack's."""
    return urlencode(
        {
            "token": "sandbox-verification-token",
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    ).encode()
