"""Email delivery backends implementing the `Mailer` protocol.

- `mime.build_mime` renders an OutgoingEmail (stable Message-ID, text + HTML alternative).
- `smtp.SmtpMailer` delivers over SMTP and classifies failures as temporary, permanent or
  unknown (connection lost after the content was sent: never resend).
- `file.FileMailer` writes `.eml` files (demo, development); `file.list_outbox` reads them back.
- `factory.build_mailer` picks one by EMAIL_BACKEND.
"""

from __future__ import annotations

from recovery.mail.factory import build_mailer, parse_tls_mode
from recovery.mail.file import FileMailer, OutboxEntry, list_outbox
from recovery.mail.mime import build_mime
from recovery.mail.smtp import SmtpMailer, TlsMode

__all__ = [
    "FileMailer",
    "OutboxEntry",
    "SmtpMailer",
    "TlsMode",
    "build_mailer",
    "build_mime",
    "list_outbox",
    "parse_tls_mode",
]
