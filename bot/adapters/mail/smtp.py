"""SMTP delivery that tells "not sent" from "maybe sent", because SMTP has no idempotency.

The session is driven command by command (aiosmtplib's `SMTP` for the dialogue, its
protocol for the message content) so each failure is classified by *when* it happened:

- before the message content was handed to the socket: nothing can have been delivered,
  so 4xx / connection errors / timeouts are `TemporaryMailError`, 5xx `PermanentMailError`;
- after the content was written: a 2xx reply is success, 4xx `TemporaryMailError` and
  5xx `PermanentMailError` (the server answered and refused), anything else (connection
  lost, timeout, garbage) is `UnknownMailOutcome` and must never be resent blindly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl

from aiosmtplib import (
    SMTP,
    SMTPException,
    SMTPResponseException,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)

from bot.adapters.mail.mime import build_mime, parse_address
from bot.adapters.mail.tls import TLS_MODES, TlsMode
from recovery.domain import OutgoingEmail
from recovery.protocols import PermanentMailError, TemporaryMailError, UnknownMailOutcome

log = logging.getLogger(__name__)

_START_INPUT = 354
_LINE_ENDINGS = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"(?m)^\.")


class SmtpMailer:
    """A Mailer speaking SMTP to one relay; one connection per email."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        tls_mode: TlsMode = "starttls",
        timeout_s: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        """Login happens only when `username` is set; `tls_context` overrides the system CAs."""
        if tls_mode not in TLS_MODES:
            raise ValueError(f"tls_mode must be one of {', '.join(TLS_MODES)}, not {tls_mode!r}")
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self.tls_mode: TlsMode = tls_mode
        self.timeout_s = timeout_s
        self._tls_context = tls_context
        self._local_hostname = local_hostname

    def __repr__(self) -> str:
        """Everything but the password."""
        return (
            f"SmtpMailer(host={self.host!r}, port={self.port}, username={self.username!r}, "
            f"tls_mode={self.tls_mode!r}, timeout_s={self.timeout_s})"
        )

    async def send(self, email: OutgoingEmail) -> None:
        """Deliver `email` once; raise Temporary/Permanent/UnknownMailOutcome on failure."""
        try:
            message = build_mime(email)
            sender = parse_address(email.from_addr).addr_spec
            recipient = parse_address(email.to_addr).addr_spec
        except ValueError as exc:
            raise PermanentMailError(f"cannot build email {email.message_id}: {exc}") from exc
        content = _wire_format(message.as_bytes())

        client = SMTP(
            hostname=self.host,
            port=self.port,
            timeout=self.timeout_s,
            use_tls=self.tls_mode == "tls",
            start_tls=False,  # done explicitly below, so "none" never upgrades on its own
            tls_context=self._tls_context,
            local_hostname=self._local_hostname,
        )
        try:
            try:
                await self._open_envelope(client, sender=sender, recipient=recipient)
                protocol = client.protocol
                if protocol is None:
                    raise SMTPServerDisconnected("connection lost before the message content")
                protocol.write(content)  # raises, writing nothing, if the socket is closing
            except (SMTPException, OSError) as exc:
                raise _before_content_error(exc, email) from exc
            # The content is on its way: from here on a lost reply means "maybe delivered".
            try:
                reply = await protocol.read_response(timeout=self.timeout_s)
            except (SMTPException, OSError) as exc:
                raise UnknownMailOutcome(
                    f"{email.message_id}: no reply after the message content was sent: {exc}"
                ) from exc
            _check_final_reply(reply.code, reply.message, email)
            log.info(
                "email %s sent via %s:%s (%s)", email.message_id, self.host, self.port, reply.code
            )
            with contextlib.suppress(SMTPException, OSError, asyncio.TimeoutError):
                await client.quit()  # delivered already; a failed goodbye changes nothing
        finally:
            client.close()

    async def _open_envelope(self, client: SMTP, *, sender: str, recipient: str) -> None:
        """Connect, secure, log in, MAIL FROM, RCPT TO and DATA up to the 354 go-ahead."""
        await client.connect()
        if self.tls_mode == "starttls":
            await client.starttls()
        if self.username is not None:
            await client.login(self.username, self._password or "")
        await client.mail(sender)
        await client.rcpt(recipient)
        reply = await client.execute_command(b"DATA")
        if reply.code != _START_INPUT:
            raise SMTPResponseException(reply.code, reply.message)


def _wire_format(message: bytes) -> bytes:
    """CRLF line endings, dot-stuffing and the terminating `.` line (RFC 5321 4.5.2)."""
    body = _LINE_ENDINGS.sub(b"\r\n", message)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return _LEADING_DOT.sub(b"..", body) + b".\r\n"


def _before_content_error(exc: BaseException, email: OutgoingEmail) -> Exception:
    """Classify a failure that happened before any message content was sent."""
    where = f"{email.message_id}: not sent"
    if isinstance(exc, SMTPResponseException):
        if 500 <= exc.code <= 599:
            return PermanentMailError(f"{where}: server replied {exc.code} {exc.message}")
        return TemporaryMailError(f"{where}: server replied {exc.code} {exc.message}")
    if isinstance(exc, SMTPServerDisconnected | SMTPTimeoutError | OSError):
        return TemporaryMailError(f"{where}: {exc}")
    # AUTH or STARTTLS missing on the server and the like: retrying cannot help.
    return PermanentMailError(f"{where}: {exc}")


def _check_final_reply(code: int, text: str, email: OutgoingEmail) -> None:
    """Raise unless the reply to the end of DATA accepted the message."""
    if 200 <= code <= 299:
        return
    if 400 <= code <= 499:
        raise TemporaryMailError(f"{email.message_id}: refused after DATA: {code} {text}")
    if 500 <= code <= 599:
        raise PermanentMailError(f"{email.message_id}: rejected after DATA: {code} {text}")
    raise UnknownMailOutcome(f"{email.message_id}: unexpected reply after DATA: {code} {text}")
