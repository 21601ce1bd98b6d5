"""Fixtures for the mail backends: a scripted SMTP server, a closed port, TLS contexts."""

from __future__ import annotations

import shutil
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from recovery.domain import OutgoingEmail
from tests.fakes.smtp_server import ScriptedSmtpServer, make_test_tls_contexts


@pytest.fixture
async def smtp_server() -> AsyncIterator[ScriptedSmtpServer]:
    """A plain-TCP recording SMTP server without AUTH, on 127.0.0.1:<free port>."""
    async with ScriptedSmtpServer() as server:
        yield server


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound (so nobody else takes it),
    never listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture(scope="session")
def tls_contexts(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server, client) contexts for a self-signed 127.0.0.1 certificate."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not available")
    return make_test_tls_contexts(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def make_email() -> Callable[..., OutgoingEmail]:
    """Build an OutgoingEmail with sensible defaults; keyword arguments override fields."""

    def build(**overrides: Any) -> OutgoingEmail:
        fields: dict[str, Any] = {
            "message_id": "dunbot-case-7-draft-3@dunbot.test",
            "from_addr": "Acme Billing <billing@acme.test>",
            "to_addr": "Jane Doe <jane@customer.test>",
            "reply_to": "finance@acme.test",
            "subject": "Your payment for invoice INV-0042 did not go through",
            "text_body": "Hi Jane,\n\nPlease pay $49.00 here: https://pay.test/i/42\n",
            "html_body": '<p>Hi Jane,</p><p><a href="https://pay.test/i/42">Pay $49.00</a></p>',
        }
        fields.update(overrides)
        return OutgoingEmail(**fields)

    return build
