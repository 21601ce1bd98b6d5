"""Slack requests are bounded before any verification: an oversized body gets 413 (unread when
announced), an oversized Socket Mode envelope is dropped unparsed, a future timestamp is 401."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from starlette.types import Message

from bot.body_limits import SLACK_MAX_BODY_BYTES
from bot.slack.commands import HELP_TEXT
from tests.fakes.slack_requests import slash_command_body
from tests.fakes.slack_server import FakeSlack
from tests.fakes.stripe_server import FakeStripe
from tests.slack_flow.conftest import FINANCE, SlackHarness, wired_harness
from tests.slack_flow.test_socket_mode import APP_TOKEN


async def test_an_oversized_unsigned_body_is_413_before_verification(sh: SlackHarness) -> None:
    body = b"payload=" + b"x" * SLACK_MAX_BODY_BYTES
    response = await sh.http.post("/slack/events", content=body)  # unsigned: would be 401
    assert response.status_code == 413


async def test_an_oversized_chunked_body_is_413_once_past_the_limit(sh: SlackHarness) -> None:
    chunks_sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        for _ in range(1000):  # 64 MB if read whole
            chunks_sent += 1
            yield b"x" * 65536

    response = await sh.http.post("/slack/events", content=chunks())
    assert response.status_code == 413
    assert chunks_sent < 10


async def test_an_announced_oversized_body_is_refused_unread(sh: SlackHarness) -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        raise AssertionError("the body was read")

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/slack/events",
        "raw_path": b"/slack/events",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-length", str(300 * 1024 * 1024).encode())],
        "client": ("127.0.0.1", 1),
        "server": ("dunbot.test", 80),
    }
    await sh.app(scope, receive, send)
    assert sent[0]["status"] == 413


async def test_a_signed_body_within_the_limit_is_served(sh: SlackHarness) -> None:
    response = await sh.command("help", FINANCE)
    assert response.status_code == 200 and HELP_TEXT in response.text


async def test_a_timestamp_301_seconds_in_the_future_is_401(sh: SlackHarness) -> None:
    body = slash_command_body("help", FINANCE)
    ahead = await sh.post(body, timestamp=int(time.time()) + 301)
    assert ahead.status_code == 401
    assert (await sh.post(body, timestamp=int(time.time()) + 280)).status_code == 200


@pytest.fixture
async def socket_sh(
    database_url: str, fake_slack: FakeSlack, fake_stripe: FakeStripe, tmp_path: Path
) -> AsyncIterator[SlackHarness]:
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


def command_envelope(envelope_id: str, text: str) -> dict[str, Any]:
    payload = dict(parse_qsl(slash_command_body(text, FINANCE).decode()))
    return {
        "envelope_id": envelope_id,
        "type": "slash_commands",
        "payload": payload,
        "accepts_response_payload": True,
    }


async def test_an_oversized_socket_mode_envelope_is_dropped_unparsed(
    socket_sh: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    oversized = command_envelope("env-big", "help " + "x" * SLACK_MAX_BODY_BYTES)
    assert len(json.dumps(oversized)) > SLACK_MAX_BODY_BYTES
    with caplog.at_level(logging.WARNING, logger="dunbot.limits"):
        big = asyncio.create_task(socket_sh.slack.send_envelope(oversized))
        # Envelopes are taken in the order they arrive: once the next one is acked, the
        # oversized one has been refused or handled.
        ack = await socket_sh.slack.send_envelope(command_envelope("env-small", "help"))
        assert ack == {"envelope_id": "env-small", "payload": {"text": HELP_TEXT}}
        assert not big.done()
        big.cancel()
    assert any("Socket Mode envelope refused" in r.getMessage() for r in caplog.records)
