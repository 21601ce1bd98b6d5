"""The signed bodies and our ids work end to end through bolt's AsyncApp and the fake Slack."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.command_parser import Pause, parse_command
from bot.slack.ids import ApprovalAction, EditDraftField, ModalCallback
from bot.slack.metadata import CardKind, CardRef, ModalMetadata
from tests.fakes.slack_requests import (
    block_action_body,
    sign,
    slash_command_body,
    view_submission_body,
)
from tests.fakes.slack_server import FakeSlack
from tests.slack.conftest import NOW

SECRET = "test-signing-secret"


def make_app(slack: FakeSlack, seen: list[Any]) -> AsyncApp:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
    app = AsyncApp(signing_secret=SECRET, client=client, process_before_response=True)

    async def on_approve(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        seen.append(CardRef.parse(body["actions"][0]["value"]))

    async def on_edit(ack: Any, view: dict[str, Any]) -> None:
        await ack()
        values = view["state"]["values"]
        subject = values[EditDraftField.SUBJECT.block_id][EditDraftField.SUBJECT.action_id]
        seen.append((ModalMetadata.parse(view["private_metadata"]), subject["value"]))

    async def on_command(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        seen.append(parse_command(command["text"], now=NOW))

    app.action(ApprovalAction.APPROVE)(on_approve)
    app.view(ModalCallback.EDIT_DRAFT)(on_edit)
    app.command("/dunning")(on_command)
    return app


async def dispatch(app: AsyncApp, body: bytes, headers: dict[str, str]) -> int:
    response = await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers={**headers}))
    return response.status


async def test_click_submission_and_command_reach_handlers(fake_slack: FakeSlack) -> None:
    seen: list[Any] = []
    app = make_app(fake_slack, seen)
    ref = CardRef(kind=CardKind.DRAFT, id=11, version=3)

    click = block_action_body(ApprovalAction.APPROVE, ref.dump(), "U123", "C1", "1700000001.000001")
    assert await dispatch(app, click, sign(click, SECRET)) == 200

    meta = ModalMetadata(card=ref)
    values = {EditDraftField.SUBJECT.block_id: {EditDraftField.SUBJECT.action_id: "Hello"}}
    submit = view_submission_body(ModalCallback.EDIT_DRAFT, meta.dump(), values, "U123")
    assert await dispatch(app, submit, sign(submit, SECRET)) == 200

    command = slash_command_body("pause cus_1 for 30d", "U123")
    assert await dispatch(app, command, sign(command, SECRET)) == 200

    assert seen[0] == ref
    assert seen[1] == (meta, "Hello")
    assert isinstance(seen[2], Pause)


async def test_bad_signature_is_401(fake_slack: FakeSlack) -> None:
    app = make_app(fake_slack, [])
    body = slash_command_body("list", "U123")
    assert await dispatch(app, body, sign(body, "wrong-secret")) == 401
