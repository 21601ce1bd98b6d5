"""A real SMTP server (aiosmtpd) for tests: records what it receives and can be scripted.

It runs on 127.0.0.1, on a free port, inside the test's own event loop, so handlers and
tests share asyncio primitives and nothing needs sleeps:

    async with ScriptedSmtpServer(credentials={"mailer": "s3cret"}) as smtp:
        smtp.script("MAIL", "421 4.3.2 Try again later")   # first MAIL FROM only
        smtp.script("DATA", DROP)      # read the message, then hang up without a reply
        ...                            # point the mailer at smtp.host, smtp.port
        await smtp.wait_for_messages(1)
        assert smtp.messages[0].message["Message-ID"] == "<id@dunbot.test>"

Scripted replies are one-shot and consumed in order per command (MAIL, RCPT, DATA); with
none queued the server accepts. A reply is an SMTP status line, DROP (close the connection
without replying) or HANG (never reply; the client's timeout fires).
"""

from __future__ import annotations

import asyncio
import io
import shutil
import ssl
import subprocess
from collections import defaultdict, deque
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

DROP = "DROP"
HANG = "HANG"

ScriptedCommand = Literal["MAIL", "RCPT", "DATA"]


@dataclass(frozen=True)
class ReceivedMessage:
    """One complete DATA transfer as the server received it."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    auth_login: str | None
    secure: bool

    @property
    def message(self) -> EmailMessage:
        """The content parsed as a MIME message (line endings read back as LF)."""
        parsed = BytesParser(policy=policy.default).parse(io.BytesIO(self.content))
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Recorder:
    """State shared by every connection of one server."""

    credentials: dict[str, str]
    require_auth: bool
    scripts: defaultdict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    messages: list[ReceivedMessage] = field(default_factory=list)
    unanswered: list[ReceivedMessage] = field(default_factory=list)
    refused: list[ReceivedMessage] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    auth_attempts: list[tuple[str, str, bool]] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)


class _Handler:
    """aiosmtpd handler hooks: record, then follow the script or accept."""

    def __init__(self, recorder: _Recorder) -> None:
        self._rec = recorder

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self._rec.commands.append("MAIL")
        if self._rec.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        reply = await self._scripted(server, "MAIL")
        if reply is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self._rec.commands.append("RCPT")
        reply = await self._scripted(server, "RCPT")
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self._rec.commands.append("DATA")
        received = ReceivedMessage(
            mail_from=str(envelope.mail_from),
            rcpt_tos=list(envelope.rcpt_tos),
            content=bytes(envelope.original_content or b""),
            auth_login=_login_of(session),
            secure=_is_secure(server),
        )
        script = self._rec.scripts["DATA"]
        action = script.popleft() if script else None
        if action is None or action.startswith("2"):
            await self._record(self._rec.messages, received)
            return action or "250 2.0.0 OK: queued"
        if action in (DROP, HANG):
            await self._record(self._rec.unanswered, received)
            await self._stall(server, drop=action == DROP)
        await self._record(self._rec.refused, received)
        return action

    async def _scripted(self, server: SMTP, command: ScriptedCommand) -> str | None:
        """The next scripted reply for `command`, None to accept; DROP/HANG never return."""
        script = self._rec.scripts[command]
        if not script:
            return None
        action = script.popleft()
        if action in (DROP, HANG):
            await self._stall(server, drop=action == DROP)
        return action

    async def _record(self, bucket: list[ReceivedMessage], received: ReceivedMessage) -> None:
        async with self._rec.changed:
            bucket.append(received)
            self._rec.changed.notify_all()

    @staticmethod
    async def _stall(server: SMTP, *, drop: bool) -> None:
        """Never reply; with `drop`, hang up first. Cancelled when the connection goes."""
        if drop and server.transport is not None:
            server.transport.close()
        await asyncio.Event().wait()


def _login_of(session: Session) -> str | None:
    """The user name the session authenticated as, if it did."""
    data = session.auth_data
    if not session.authenticated or not isinstance(data, LoginPassword):
        return None
    return data.login.decode()


def _is_secure(server: SMTP) -> bool:
    """True when the connection runs over TLS (implicit or after STARTTLS)."""
    transport = server.transport
    return transport is not None and transport.get_extra_info("ssl_object") is not None


class ScriptedSmtpServer:
    """A recording, scriptable SMTP server on 127.0.0.1 in the running event loop.

    `credentials` enables AUTH PLAIN/LOGIN (over plain TCP, as a test relay may);
    `require_auth` (default: when credentials are given) answers MAIL with 530 until then.
    `starttls_context` offers STARTTLS (and requires it unless `require_starttls=False`);
    `implicit_tls_context` serves TLS from the first byte.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        credentials: dict[str, str] | None = None,
        require_auth: bool | None = None,
        starttls_context: ssl.SSLContext | None = None,
        require_starttls: bool = True,
        implicit_tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._rec = _Recorder(
            credentials=dict(credentials or {}),
            require_auth=bool(credentials) if require_auth is None else require_auth,
        )
        self._starttls_context = starttls_context
        self._require_starttls = require_starttls
        self._implicit_tls_context = implicit_tls_context
        self._server: asyncio.Server | None = None
        self._connections: list[SMTP] = []
        self.port = 0

    # What the server saw.

    @property
    def messages(self) -> list[ReceivedMessage]:
        """Messages accepted with a 2xx reply to the end of DATA."""
        return self._rec.messages

    @property
    def unanswered(self) -> list[ReceivedMessage]:
        """Messages fully received but never answered (scripted DROP or HANG at DATA)."""
        return self._rec.unanswered

    @property
    def refused(self) -> list[ReceivedMessage]:
        """Messages fully received and then refused with a scripted 4xx/5xx."""
        return self._rec.refused

    @property
    def commands(self) -> list[str]:
        """MAIL, RCPT and DATA commands in arrival order, across connections."""
        return self._rec.commands

    @property
    def auth_attempts(self) -> list[tuple[str, str, bool]]:
        """(mechanism, login, succeeded) per AUTH; passwords are not recorded."""
        return self._rec.auth_attempts

    @property
    def connection_count(self) -> int:
        """How many SMTP connections were opened."""
        return len(self._connections)

    # Scripting and waiting.

    def script(self, command: ScriptedCommand, *replies: str) -> None:
        """Queue one-shot replies for `command` (status lines, DROP or HANG)."""
        self._rec.scripts[command].extend(replies)

    async def wait_for_messages(self, count: int, *, timeout_s: float = 5.0) -> None:
        """Wait until `count` messages were accepted (for senders running in the background)."""
        async with asyncio.timeout(timeout_s), self._rec.changed:
            await self._rec.changed.wait_for(lambda: len(self._rec.messages) >= count)

    # Lifecycle.

    async def start(self) -> ScriptedSmtpServer:
        """Listen on a free port of 127.0.0.1."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._new_connection, self.host, 0, ssl=self._implicit_tls_context
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Close every connection and the listener."""
        for connection in self._connections:
            if connection.transport is not None:
                connection.transport.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> ScriptedSmtpServer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _new_connection(self) -> SMTP:
        connection = SMTP(
            _Handler(self._rec),
            hostname="fake-smtp.test",
            tls_context=self._starttls_context,
            require_starttls=self._require_starttls,
            auth_require_tls=False,
            authenticator=self._authenticate,
            loop=asyncio.get_running_loop(),
        )
        self._connections.append(connection)
        return connection

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        ok = login in self._rec.credentials and self._rec.credentials[login] == password
        self._rec.auth_attempts.append((mechanism, login, ok))
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


def make_test_tls_contexts(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server, client) TLS contexts for a fresh self-signed 127.0.0.1 certificate.

    Needs the `openssl` command; the client context trusts only this certificate.
    """
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the openssl command is needed to make a test certificate")
    cert, key = directory / "smtp-test.crt", directory / "smtp-test.key"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client
