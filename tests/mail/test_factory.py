"""build_mailer: the backend named by EMAIL_BACKEND, built from explicit settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.adapters.mail.factory import build_mailer, parse_tls_mode
from bot.adapters.mail.file import FileMailer
from bot.adapters.mail.smtp import SmtpMailer


def test_builds_the_file_backend(tmp_path: Path) -> None:
    mailer = build_mailer("file", outbox_dir=tmp_path)

    assert isinstance(mailer, FileMailer)
    assert mailer.directory == tmp_path


def test_builds_the_smtp_backend() -> None:
    mailer = build_mailer(
        "smtp",
        smtp_host="smtp.test",
        smtp_username="mailer",
        smtp_password=SecretStr("s3cret"),
        smtp_tls="false",
    )

    assert isinstance(mailer, SmtpMailer)
    assert (mailer.host, mailer.port, mailer.username, mailer.tls_mode) == (
        "smtp.test",
        25,
        "mailer",
        "none",
    )
    assert "s3cret" not in repr(mailer)


@pytest.mark.parametrize(
    ("value", "mode"),
    [("true", "starttls"), ("starttls", "starttls"), ("TLS", "tls"), ("false", "none"),
     ("none", "none"), (False, "none"), (True, "starttls")],
)  # fmt: skip
def test_parse_tls_mode(value: str | bool, mode: str) -> None:
    assert parse_tls_mode(value) == mode


def test_unknown_backend_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"unknown EMAIL_BACKEND 'sendgrid'.*smtp, file"):
        build_mailer("sendgrid")


@pytest.mark.parametrize(
    ("backend", "message"), [("smtp", "SMTP_HOST"), ("file", "outbox directory")]
)
def test_missing_settings_are_clear_errors(backend: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_mailer(backend)


def test_bad_tls_setting_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="SMTP_TLS"):
        build_mailer("smtp", smtp_host="smtp.test", smtp_tls="maybe")
