"""Pick and build the Mailer named by EMAIL_BACKEND from explicit settings.

The SMTP module (and so aiosmtplib) is imported only when EMAIL_BACKEND=smtp.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from bot.adapters.mail.file import FileMailer
from bot.adapters.mail.tls import default_port, parse_tls_mode
from recovery.protocols import Mailer

__all__ = ["MAIL_BACKENDS", "build_mailer", "parse_tls_mode"]

MAIL_BACKENDS = ("smtp", "file")


def build_mailer(
    backend: str,
    *,
    outbox_dir: Path | None = None,
    smtp_host: str | None = None,
    smtp_port: int | None = None,
    smtp_username: str | None = None,
    smtp_password: str | SecretStr | None = None,
    smtp_tls: str | bool = "starttls",
    smtp_timeout_s: float = 30.0,
) -> Mailer:
    """The Mailer for `backend` ("smtp" or "file"); ValueError on unknown or incomplete settings.

    A further backend (an HTTP provider sending `OutgoingEmail.message_id` as its
    idempotency key) is one more module under `bot/adapters/mail/` and one more branch here.
    """
    match backend.strip().lower():
        case "file":
            if outbox_dir is None:
                raise ValueError("EMAIL_BACKEND=file needs an outbox directory")
            return FileMailer(Path(outbox_dir))
        case "smtp":
            if not smtp_host:
                raise ValueError("EMAIL_BACKEND=smtp needs SMTP_HOST")
            from bot.adapters.mail.smtp import SmtpMailer

            tls_mode = parse_tls_mode(smtp_tls)
            password = (
                smtp_password.get_secret_value()
                if isinstance(smtp_password, SecretStr)
                else smtp_password
            )
            return SmtpMailer(
                host=smtp_host,
                port=smtp_port if smtp_port is not None else default_port(tls_mode),
                username=smtp_username or None,
                password=password,
                tls_mode=tls_mode,
                timeout_s=smtp_timeout_s,
            )
        case _:
            raise ValueError(
                f"unknown EMAIL_BACKEND {backend!r}: expected one of {', '.join(MAIL_BACKENDS)}"
            )
