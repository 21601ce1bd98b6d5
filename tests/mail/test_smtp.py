"""SmtpMailer against a real SMTP server: what arrives, and how each failure is classified."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable

import pytest

from bot.adapters.mail.smtp import SmtpMailer, TlsMode
from recovery.domain import OutgoingEmail
from recovery.protocols import PermanentMailError, TemporaryMailError, UnknownMailOutcome
from tests.fakes.smtp_server import DROP, HANG, ScriptedCommand, ScriptedSmtpServer
from tests.support.mail import part_text

MakeEmail = Callable[..., OutgoingEmail]


def mailer_for(
    server: ScriptedSmtpServer,
    *,
    tls_mode: TlsMode = "none",
    username: str | None = None,
    password: str | None = None,
    timeout_s: float = 5.0,
    tls_context: ssl.SSLContext | None = None,
) -> SmtpMailer:
    return SmtpMailer(
        host=server.host,
        port=server.port,
        username=username,
        password=password,
        tls_mode=tls_mode,
        timeout_s=timeout_s,
        tls_context=tls_context,
        local_hostname="dunbot.test",
    )


async def test_delivers_one_multipart_message_with_stable_headers(
    smtp_server: ScriptedSmtpServer, make_email: MakeEmail
) -> None:
    email = make_email()

    await mailer_for(smtp_server).send(email)

    assert len(smtp_server.messages) == 1
    received = smtp_server.messages[0]
    assert received.mail_from == "billing@acme.test"
    assert received.rcpt_tos == ["jane@customer.test"]
    assert received.auth_login is None
    assert smtp_server.auth_attempts == []
    message = received.message
    assert message["Message-ID"] == "<dunbot-case-7-draft-3@dunbot.test>"
    assert message["From"] == "Acme Billing <billing@acme.test>"
    assert message["To"] == "Jane Doe <jane@customer.test>"
    assert message["Reply-To"] == "finance@acme.test"
    assert message["Subject"] == email.subject
    assert message["Date"] is not None
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in parts)
    assert parts[0].get_content() == email.text_body
    assert parts[1].get_content().strip() == email.html_body


async def test_message_content_survives_dot_stuffing_and_utf8(
    smtp_server: ScriptedSmtpServer, make_email: MakeEmail
) -> None:
    text = "Grüße, Jürgen\n.\n..two dots\n.leading dot\nlast line without newline"
    await mailer_for(smtp_server).send(make_email(text_body=text, subject="Zahlung fällig"))

    message = smtp_server.messages[0].message
    assert part_text(message).rstrip("\n") == text
    assert message["Subject"] == "Zahlung fällig"


async def test_logs_in_only_when_a_username_is_configured(make_email: MakeEmail) -> None:
    async with ScriptedSmtpServer(credentials={"mailer": "s3cret"}) as server:
        with pytest.raises(PermanentMailError, match="530"):
            await mailer_for(server).send(make_email())
        assert server.auth_attempts == []

        await mailer_for(server, username="mailer", password="s3cret").send(make_email())

    assert [login for _, login, ok in server.auth_attempts if ok] == ["mailer"]
    assert len(server.messages) == 1
    assert server.messages[0].auth_login == "mailer"


async def test_rejected_credentials_are_permanent_and_never_logged(
    make_email: MakeEmail, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="recovery")
    async with ScriptedSmtpServer(credentials={"mailer": "s3cret"}) as server:
        mailer = mailer_for(server, username="mailer", password="wrong-s3cret")
        with pytest.raises(PermanentMailError) as failure:
            await mailer.send(make_email())

    assert failure.value.__cause__ is not None
    assert "535" in str(failure.value)
    assert server.messages == []
    assert "wrong-s3cret" not in str(failure.value)
    assert "wrong-s3cret" not in repr(mailer)
    assert "wrong-s3cret" not in caplog.text


async def test_421_to_mail_from_is_temporary_and_a_retry_delivers_once(
    smtp_server: ScriptedSmtpServer, make_email: MakeEmail
) -> None:
    smtp_server.script("MAIL", "421 4.3.2 Service shutting down, try later")
    mailer = mailer_for(smtp_server)

    with pytest.raises(TemporaryMailError, match="421"):
        await mailer.send(make_email())
    assert smtp_server.messages == []

    await mailer.send(make_email())
    assert len(smtp_server.messages) == 1
    assert smtp_server.commands == ["MAIL", "MAIL", "RCPT", "DATA"]


@pytest.mark.parametrize("reply", ["450 4.2.1 Mailbox busy", "451 4.3.0 Local error"])
async def test_4xx_to_rcpt_is_temporary(
    smtp_server: ScriptedSmtpServer, make_email: MakeEmail, reply: str
) -> None:
    smtp_server.script("RCPT", reply)

    with pytest.raises(TemporaryMailError, match=reply[:3]):
        await mailer_for(smtp_server).send(make_email())
    assert smtp_server.messages == []
    assert "DATA" not in smtp_server.commands


async def test_550_recipient_rejected_is_permanent(
    smtp_server: ScriptedSmtpServer, make_email: MakeEmail
) -> None:
    smtp_server.script("RCPT", "550 5.1.1 No such user here")

    with pytest.raises(PermanentMailError, match="550"):
        await mailer_for(smtp_server).send(make_email())
    assert smtp_server.messages == []


@pytest.mark.parametrize("command", ["MAIL", "RCPT"])
async def test_connection_lost_before_the_content_is_temporary(
    smtp_server: ScriptedSmtpServer, make_email: MakeEmail, command: ScriptedCommand
) -> None:
    smtp_server.script(command, DROP)

    with pytest.raises(TemporaryMailError):
        await mailer_for(smtp_server).send(make_email())
    assert smtp_server.messages == [] and smtp_server.unanswered == []


async def test_connection_lost_after_the_content_is_unknown(
    smtp_server: ScriptedSmtpServer, make_email: MakeEmail
) -> None:
    smtp_server.script("DATA", DROP)

    with pytest.raises(UnknownMailOutcome):
        await mailer_for(smtp_server).send(make_email())
    assert len(smtp_server.unanswered) == 1  # the server did get the whole message
    assert smtp_server.unanswered[0].message["Message-ID"] == "<dunbot-case-7-draft-3@dunbot.test>"
    assert smtp_server.messages == []


async def test_no_reply_after_the_content_times_out_as_unknown(
    smtp_server: ScriptedSmtpServer, make_email: MakeEmail
) -> None:
    smtp_server.script("DATA", HANG)

    with pytest.raises(UnknownMailOutcome):
        await mailer_for(smtp_server, timeout_s=0.3).send(make_email())
    assert len(smtp_server.unanswered) == 1


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("451 4.7.1 Greylisted, try again", TemporaryMailError),
        ("554 5.7.1 Message rejected as spam", PermanentMailError),
    ],
)
async def test_refusal_at_the_end_of_data_is_explicit(
    smtp_server: ScriptedSmtpServer,
    make_email: MakeEmail,
    reply: str,
    error: type[Exception],
) -> None:
    smtp_server.script("DATA", reply)

    with pytest.raises(error, match=reply[:3]):
        await mailer_for(smtp_server).send(make_email())
    assert len(smtp_server.refused) == 1
    assert smtp_server.messages == []


async def test_connection_refused_is_temporary(closed_port: int, make_email: MakeEmail) -> None:
    mailer = SmtpMailer(host="127.0.0.1", port=closed_port, tls_mode="none", timeout_s=5)

    with pytest.raises(TemporaryMailError):
        await mailer.send(make_email())


async def test_no_greeting_times_out_as_temporary(make_email: MakeEmail) -> None:
    client_gone = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up and closes
        writer.close()
        client_gone.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        mailer = SmtpMailer(host="127.0.0.1", port=port, tls_mode="none", timeout_s=0.3)
        with pytest.raises(TemporaryMailError, match="[Tt]imed out"):
            await mailer.send(make_email())
        await asyncio.wait_for(client_gone.wait(), timeout=5)
    finally:
        server.close()
        await server.wait_closed()


async def test_invalid_recipient_is_permanent_without_connecting(
    smtp_server: ScriptedSmtpServer, make_email: MakeEmail
) -> None:
    with pytest.raises(PermanentMailError, match="invalid email address"):
        await mailer_for(smtp_server).send(
            make_email(to_addr="jane@customer.test\r\nBcc: x@y.test")
        )
    assert smtp_server.connection_count == 0


async def test_starttls_upgrades_before_login(
    tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext], make_email: MakeEmail
) -> None:
    server_tls, client_tls = tls_contexts
    async with ScriptedSmtpServer(
        starttls_context=server_tls, credentials={"mailer": "s3cret"}
    ) as server:
        mailer = mailer_for(
            server,
            tls_mode="starttls",
            username="mailer",
            password="s3cret",
            tls_context=client_tls,
        )
        await mailer.send(make_email())

    assert len(server.messages) == 1
    assert server.messages[0].secure
    assert server.messages[0].auth_login == "mailer"


async def test_tls_mode_none_never_starts_tls(
    tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext], make_email: MakeEmail
) -> None:
    server_tls, _ = tls_contexts
    async with ScriptedSmtpServer(starttls_context=server_tls, require_starttls=False) as server:
        await mailer_for(server, tls_mode="none").send(make_email())

    assert len(server.messages) == 1
    assert not server.messages[0].secure


async def test_implicit_tls(
    tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext], make_email: MakeEmail
) -> None:
    server_tls, client_tls = tls_contexts
    async with ScriptedSmtpServer(implicit_tls_context=server_tls) as server:
        await mailer_for(server, tls_mode="tls", tls_context=client_tls).send(make_email())

    assert len(server.messages) == 1
    assert server.messages[0].secure


async def test_untrusted_certificate_is_temporary(
    tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext], make_email: MakeEmail
) -> None:
    server_tls, _ = tls_contexts
    async with ScriptedSmtpServer(starttls_context=server_tls) as server:
        with pytest.raises(TemporaryMailError):
            await mailer_for(server, tls_mode="starttls").send(make_email())  # system CAs only
    assert server.messages == []


def test_rejects_an_unknown_tls_mode() -> None:
    with pytest.raises(ValueError, match="tls_mode"):
        # A value from a settings file the type checker never saw: the check is at run time.
        SmtpMailer(host="smtp.test", port=25, tls_mode="false")  # type: ignore[arg-type]
