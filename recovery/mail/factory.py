"""Pick and build the Mailer named by EMAIL_BACKEND from explicit settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from recovery.mail.file import FileMailer
from recovery.mail.smtp import TLS_MODES, SmtpMailer, TlsMode
from recovery.protocols import Mailer

MAIL_BACKENDS = ("smtp", "file")

_TLS_ALIASES: dict[str, TlsMode] = {
    "starttls": "starttls",
    "true": "starttls",
    "1": "starttls",
    "yes": "starttls",
    "tls": "tls",
    "ssl": "tls",
    "implicit": "tls",
    "none": "none",
    "false": "none",
    "0": "none",
    "no": "none",
    "off": "none",
}


def parse_tls_mode(value: str | bool) -> TlsMode:
    """SMTP_TLS as configured (`true`/`starttls`, `tls`, `false`/`none`) → a TlsMode."""
    if isinstance(value, bool):
        return "starttls" if value else "none"
    mode = _TLS_ALIASES.get(value.strip().lower())
    if mode is None:
        raise ValueError(f"SMTP_TLS must be one of {', '.join(TLS_MODES)} or false, not {value!r}")
    return mode


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
    idempotency key) is one more module under `recovery/mail/` and one more branch here.
    """
    match backend.strip().lower():
        case "file":
            if outbox_dir is None:
                raise ValueError("EMAIL_BACKEND=file needs an outbox directory")
            return FileMailer(Path(outbox_dir))
        case "smtp":
            if not smtp_host:
                raise ValueError("EMAIL_BACKEND=smtp needs SMTP_HOST")
            tls_mode = parse_tls_mode(smtp_tls)
            password = (
                smtp_password.get_secret_value()
                if isinstance(smtp_password, SecretStr)
                else smtp_password
            )
            return SmtpMailer(
                host=smtp_host,
                port=smtp_port if smtp_port is not None else _default_port(tls_mode),
                username=smtp_username or None,
                password=password,
                tls_mode=tls_mode,
                timeout_s=smtp_timeout_s,
            )
        case _:
            raise ValueError(
                f"unknown EMAIL_BACKEND {backend!r}: expected one of {', '.join(MAIL_BACKENDS)}"
            )


def _default_port(tls_mode: TlsMode) -> int:
    """Submission ports: 465 for implicit TLS, 587 for STARTTLS, 25 for plain SMTP."""
    return {"tls": 465, "starttls": 587, "none": 25}[tls_mode]
