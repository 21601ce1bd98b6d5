"""Signed request builders, checked with slack_sdk's own SignatureVerifier and parsers."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier

from bot.slack.ids import ApprovalAction, EditDraftField, ModalCallback
from bot.slack.metadata import CardKind, CardRef
from tests.fakes.slack_requests import (
    block_action_body,
    sign,
    slash_command_body,
    view_submission_body,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def payload_of(body: bytes) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(parse_qs(body.decode())["payload"][0])
    return payload


def test_signature_verifies_with_slack_sdk() -> None:
    body = slash_command_body("list", "U123")
    headers = sign(body, SECRET)
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, headers)
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_wrong_secret_tampered_body_and_stale_timestamp_fail() -> None:
    body = slash_command_body("list", "U123")
    verifier = SignatureVerifier(SECRET)
    assert not verifier.is_valid_request(body, sign(body, "other-secret"))
    assert not verifier.is_valid_request(body + b"&x=1", sign(body, SECRET))
    stale = sign(body, SECRET, timestamp=int(time.time()) - 600)
    assert not verifier.is_valid_request(body, stale)
    fixed = sign(body, SECRET, timestamp=1531420618)
    assert fixed["X-Slack-Request-Timestamp"] == "1531420618"
    assert fixed["X-Slack-Signature"] == SignatureVerifier(SECRET).generate_signature(
        timestamp="1531420618", body=body
    )


def test_block_action_body() -> None:
    ref = CardRef(kind=CardKind.DRAFT, id=11, version=3).dump()
    body = block_action_body(
        ApprovalAction.APPROVE,
        ref,
        user_id="U123",
        channel="C0APPROVE",
        message_ts="1700000001.000001",
    )
    payload = payload_of(body)
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == "U123"
    assert payload["channel"]["id"] == "C0APPROVE"
    assert payload["container"]["message_ts"] == "1700000001.000001"
    assert payload["container"]["type"] == "message"
    action = payload["actions"][0]
    assert action["action_id"] == "approval.approve"
    assert CardRef.parse(action["value"]).id == 11
    assert payload["trigger_id"]


def test_view_submission_body() -> None:
    values = {
        EditDraftField.SUBJECT.block_id: {EditDraftField.SUBJECT.action_id: "New subject"},
        EditDraftField.BODY.block_id: {EditDraftField.BODY.action_id: "New body"},
    }
    body = view_submission_body(ModalCallback.EDIT_DRAFT, '{"x": 1}', values, "U123")
    payload = payload_of(body)
    assert payload["type"] == "view_submission"
    view = payload["view"]
    assert view["callback_id"] == "modal.edit_draft"
    assert view["private_metadata"] == '{"x": 1}'
    state = view["state"]["values"]
    field = state[EditDraftField.SUBJECT.block_id][EditDraftField.SUBJECT.action_id]
    assert field == {"type": "plain_text_input", "value": "New subject"}
    assert payload["user"]["id"] == "U123"


def test_slash_command_body() -> None:
    body = slash_command_body("pause cus_1 for 30d", "U123", channel_id="C9")
    fields = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    assert fields["command"] == "/dunning"
    assert fields["text"] == "pause cus_1 for 30d"
    assert fields["user_id"] == "U123"
    assert fields["channel_id"] == "C9"
    assert fields["response_url"].startswith("https://hooks.slack.com/")
