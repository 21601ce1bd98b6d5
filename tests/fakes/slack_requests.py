"""Signed Slack requests for tests: interactivity payloads and slash commands, as Slack sends them.

Bodies start from the fixtures in `tests/fixtures/slack/` (block_actions.json,
view_submission.json, slash_command.txt) with the test's values filled in, and are signed
the way `slack_sdk.signature.SignatureVerifier` checks (`v0=` HMAC-SHA256 of
`v0:{timestamp}:{body}`):

    body = block_action_body(ApprovalAction.APPROVE, ref.dump(), user_id="U1",
                             channel="C1", message_ts="1700000001.000001")
    response = await client.post("/slack/events", content=body, headers=sign(body, SECRET))
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

FIXTURES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "slack"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
TEAM_ID = "T0DUNBOT1"
APP_ID = "A0DUNBOT1"


def _fixture_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES_DIR / name).read_text(encoding="utf-8"))
    return data


def sign(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack sends with `body`: timestamp, `v0=` signature and the form content type."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + stamp.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": FORM_CONTENT_TYPE,
    }


def _payload_body(payload: Mapping[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def block_action_body(
    action_id: str,
    value: str,
    user_id: str,
    channel: str,
    message_ts: str,
    *,
    block_id: str = "actions",
    label: str = "Button",
    message_text: str = "",
    message_blocks: list[dict[str, Any]] | None = None,
    team_id: str = TEAM_ID,
    trigger_id: str = "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3",
    response_url: str | None = None,
) -> bytes:
    """A button click on a channel message (form field `payload`), from block_actions.json."""
    payload = _fixture_json("block_actions.json")
    payload["team"] = {"id": team_id, "domain": "dunbot-test"}
    payload["user"] = {"id": user_id, "username": user_id.lower(), "team_id": team_id}
    payload["api_app_id"] = APP_ID
    payload["trigger_id"] = trigger_id
    payload["container"] = {
        "type": "message",  # a Block Kit message, as bolt's own scenario tests send
        "message_ts": message_ts,
        "channel_id": channel,
        "is_ephemeral": False,
    }
    payload["channel"] = {"id": channel, "name": channel.lower()}
    payload["message"] = {
        **payload["message"],
        "text": message_text,
        "ts": message_ts,
        "blocks": message_blocks or [],
    }
    if response_url is not None:
        payload["response_url"] = response_url
    payload["actions"] = [
        {
            "action_id": action_id,
            "block_id": block_id,
            "text": {"type": "plain_text", "text": label, "emoji": True},
            "value": value,
            "type": "button",
            "action_ts": f"{int(time.time())}.000100",
        }
    ]
    return _payload_body(payload)


def view_block_action_body(
    action_id: str,
    value: str,
    user_id: str,
    view: Mapping[str, Any],
    *,
    team_id: str = TEAM_ID,
    trigger_id: str = "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb4",
) -> bytes:
    """A button click inside a modal (`container.type` view, the view as Slack stores it)."""
    payload = _fixture_json("block_actions.json")
    payload["team"] = {"id": team_id, "domain": "dunbot-test"}
    payload["user"] = {"id": user_id, "username": user_id.lower(), "team_id": team_id}
    payload["api_app_id"] = APP_ID
    payload["trigger_id"] = trigger_id
    payload["container"] = {"type": "view", "view_id": view["id"]}
    payload.pop("channel", None)
    payload.pop("message", None)
    payload["view"] = dict(view)
    payload["actions"] = [
        {
            "action_id": action_id,
            "block_id": "actions",
            "text": {"type": "plain_text", "text": "Button", "emoji": True},
            "value": value,
            "type": "button",
            "action_ts": f"{int(time.time())}.000100",
        }
    ]
    return _payload_body(payload)


def view_submission_body(
    callback_id: str,
    private_metadata: str,
    values: Mapping[str, Mapping[str, Any]],
    user_id: str,
    *,
    team_id: str = TEAM_ID,
    view_id: str = "V0DUNBOT1",
) -> bytes:
    """A modal submission (form field `payload`), from view_submission.json.

    `values` is `{block_id: {action_id: value}}`; a plain string (or None) becomes a
    `plain_text_input` state, a dict is used as the element state as is.
    """
    payload = _fixture_json("view_submission.json")
    payload["team"] = {"id": team_id, "domain": "dunbot-test"}
    payload["user"] = {
        "id": user_id,
        "username": user_id.lower(),
        "name": user_id.lower(),
        "team_id": team_id,
    }
    payload["api_app_id"] = APP_ID
    state: dict[str, dict[str, Any]] = {}
    blocks: list[dict[str, Any]] = []
    for block_id, elements in values.items():
        state[block_id] = {}
        for action_id, value in elements.items():
            element = (
                value if isinstance(value, dict) else {"type": "plain_text_input", "value": value}
            )
            state[block_id][action_id] = element
            blocks.append(
                {
                    "type": "input",
                    "block_id": block_id,
                    "label": {"type": "plain_text", "text": block_id},
                    "optional": False,
                    "element": {
                        "type": element.get("type", "plain_text_input"),
                        "action_id": action_id,
                    },
                }
            )
    view = payload["view"]
    view.update(
        id=view_id,
        root_view_id=view_id,
        team_id=team_id,
        app_id=APP_ID,
        app_installed_team_id=team_id,
        callback_id=callback_id,
        private_metadata=private_metadata,
        blocks=blocks,
        state={"values": state},
    )
    return _payload_body(payload)


def slash_command_body(
    text: str,
    user_id: str,
    *,
    command: str = "/dunning",
    channel_id: str = "C111",
    team_id: str = TEAM_ID,
    trigger_id: str = "111.111.xxx",
    response_url: str | None = None,
) -> bytes:
    """A slash command invocation (form-encoded), from slash_command.txt."""
    raw = (FIXTURES_DIR / "slash_command.txt").read_text(encoding="utf-8")
    fields = dict(parse_qsl(raw, keep_blank_values=True))
    fields.update(
        team_id=team_id,
        team_domain="dunbot-test",
        channel_id=channel_id,
        channel_name=channel_id.lower(),
        user_id=user_id,
        user_name=user_id.lower(),
        command=command,
        text=text,
        trigger_id=trigger_id,
        api_app_id=APP_ID,
    )
    fields.pop("enterprise_id", None)
    fields.pop("enterprise_name", None)
    if response_url is not None:
        fields["response_url"] = response_url
    return urlencode(fields).encode()
