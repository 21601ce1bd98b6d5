"""Socket Mode: with SLACK_APP_TOKEN the app's lifespan opens a WebSocket to Slack (the URL from
`apps.connections.open`, called with the app token), and the envelopes Slack pushes down it are
handled by the same Bolt listeners as the HTTP requests, then acked by `envelope_id`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from bot.adapters.mail.file import list_outbox
from bot.slack.commands import HELP_TEXT
from bot.slack.ids import ApprovalAction
from storage.models import DraftStatus
from tests.fakes.slack_requests import block_action_body, slash_command_body
from tests.fakes.slack_server import FakeSlack
from tests.fakes.stripe_server import FakeStripe
from tests.slack_flow.conftest import (
    FINANCE,
    SlackHarness,
    add_standard,
    button_value,
    buttons,
    wired_harness,
)

APP_TOKEN = "xapp-1-A0DUNBOT1-1-socketmodetest"


@pytest.fixture
async def socket_sh(
    database_url: str, fake_slack: FakeSlack, fake_stripe: FakeStripe, tmp_path: Path
) -> AsyncIterator[SlackHarness]:
    """The wired app with SLACK_APP_TOKEN, its lifespan running (so Socket Mode is connected)."""
    async with wired_harness(
        database_url,
        fake_slack,
        fake_stripe,
        tmp_path,
        slack_app_token=APP_TOKEN,
        email_backend="file",
        email_outbox_dir=tmp_path / "outbox",
    ) as harness:
        async with harness.app.router.lifespan_context(harness.app):
            yield harness


def form_payload(body: bytes) -> dict[str, object]:
    """The `payload` JSON of an interactivity request body, as a Socket Mode envelope has it."""
    decoded: dict[str, object] = json.loads(dict(parse_qsl(body.decode()))["payload"])
    return decoded


async def test_lifespan_connects_with_the_app_token(socket_sh: SlackHarness) -> None:
    [opened] = socket_sh.slack.calls_to("apps.connections.open")
    assert opened.token == APP_TOKEN and opened.response["ok"] is True


async def test_approve_over_socket_mode_is_acked_and_sends_the_email(
    socket_sh: SlackHarness,
) -> None:
    sh = socket_sh
    add_standard(sh.stripe)
    await sh.fail("in_std")
    draft = await sh.latest_draft("in_std")
    card = await sh.card("approval", draft.id)
    body = block_action_body(
        ApprovalAction.APPROVE,
        button_value(card, ApprovalAction.APPROVE),
        FINANCE,
        card["channel"],
        card["ts"],
    )
    ack = await sh.slack.send_envelope(
        {
            "envelope_id": "env-approve-1",
            "type": "interactive",
            "payload": form_payload(body),
            "accepts_response_payload": False,
        }
    )
    assert ack == {"envelope_id": "env-approve-1"}
    assert (await sh.latest_draft("in_std")).status == DraftStatus.APPROVED
    await sh.worker.run_until_idle()
    [email] = list_outbox(sh.outbox)
    assert email.to_addr == "ana@example.com"
    assert ApprovalAction.APPROVE not in buttons(await sh.card("approval", draft.id))


async def test_slash_command_over_socket_mode_answers_in_the_ack(socket_sh: SlackHarness) -> None:
    payload = dict(parse_qsl(slash_command_body("help", FINANCE).decode()))
    ack = await socket_sh.slack.send_envelope(
        {
            "envelope_id": "env-help-1",
            "type": "slash_commands",
            "payload": payload,
            "accepts_response_payload": True,
        }
    )
    assert ack == {"envelope_id": "env-help-1", "payload": {"text": HELP_TEXT}}


async def test_a_refused_app_token_fails_start_up_with_a_clear_error(
    database_url: str, fake_slack: FakeSlack, fake_stripe: FakeStripe, tmp_path: Path
) -> None:
    async with wired_harness(
        database_url,
        fake_slack,
        fake_stripe,
        tmp_path,
        slack_app_token="xoxb-not-an-app-token",
        email_backend="file",
        email_outbox_dir=tmp_path / "outbox",
    ) as harness:
        with pytest.raises(RuntimeError, match="Slack refused SLACK_APP_TOKEN"):
            async with harness.app.router.lifespan_context(harness.app):
                pytest.fail("the app started with a refused Socket Mode token")
