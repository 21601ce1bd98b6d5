"""The local fake servers as fixtures for every test directory (a pytest plugin that
tests/conftest.py loads): each started on a free port for one test and stopped after it.

A directory's conftest may still define a fixture of the same name to serve it differently."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.fakes.slack_server import FakeSlack
from tests.fakes.smtp_server import ScriptedSmtpServer
from tests.fakes.stripe_server import FakeStripe
from tests.fakes.twilio_server import FakeTwilio


@pytest.fixture
def stripe_api() -> Iterator[FakeStripe]:
    """A running fake Stripe; add data with its helpers, read `requests` afterwards."""
    with FakeStripe() as server:
        yield server


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A running fake Slack Web API (`base_url` ends in /api/)."""
    with FakeSlack() as server:
        yield server


@pytest.fixture
async def smtp() -> AsyncIterator[ScriptedSmtpServer]:
    """A recording SMTP server without TLS or AUTH; script replies with `smtp.script`."""
    async with ScriptedSmtpServer() as server:
        yield server


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A running fake Twilio Messages API."""
    with FakeTwilio() as server:
        yield server
