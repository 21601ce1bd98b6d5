"""Render an OutgoingEmail as a MIME message: text plus HTML alternative, header-injection safe."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from recovery.domain import OutgoingEmail

_LINE_BREAKS = re.compile(r"[\r\n]+")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+"  # RFC 5322 atext plus dots
_MESSAGE_ID = re.compile(f"{_ATEXT}@{_ATEXT}")
_DOMAIN_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")

# Quoted-printable keeps every part 7-bit, so no server needs 8BITMIME.
_BODY_CTE = "quoted-printable"


def clean_header_text(value: str) -> str:
    """Free text for a header (a subject): line breaks become spaces, controls go."""
    return _CONTROL_CHARS.sub("", _LINE_BREAKS.sub(" ", value)).strip()


def parse_address(value: str) -> Address:
    """Parse exactly one mailbox (`a@b.example` or `Name <a@b.example>`); ValueError otherwise.

    Line breaks are stripped first, then the whole value must parse without defects, so an
    injection attempt such as `a@b.example\\r\\nBcc: x@y.example` is rejected, not split.
    Non-ASCII domains are IDNA-encoded; non-ASCII local parts (SMTPUTF8) are refused.
    """
    text = clean_header_text(value)
    if not text:
        raise ValueError("empty email address")
    try:
        header = policy.default.header_factory("To", text)
        defects = list(header.defects)
        groups = header.groups
    except Exception as exc:  # the stdlib parser raises assorted errors on garbage
        raise ValueError(f"invalid email address: {text!r}") from exc
    if defects or len(groups) != 1 or groups[0].display_name is not None:
        raise ValueError(f"invalid email address: {text!r}")
    addresses = groups[0].addresses
    if len(addresses) != 1:
        raise ValueError(f"expected exactly one email address: {text!r}")
    address = addresses[0]
    username, domain = address.username, address.domain
    if not username or not domain or not username.isascii():
        raise ValueError(f"invalid email address: {text!r}")
    return Address(
        display_name=clean_header_text(address.display_name),
        username=username,
        domain=_ascii_domain(domain, original=text),
    )


def _ascii_domain(domain: str, *, original: str) -> str:
    """The domain in ASCII (IDNA for internationalised names), checked label by label."""
    try:
        ascii_domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"invalid email domain: {original!r}") from exc
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"invalid email domain: {original!r}")
    return ascii_domain


def format_message_id(message_id: str) -> str:
    """`<left@right>` from a message id given with or without angle brackets."""
    bare = message_id.strip()
    if bare.startswith("<") and bare.endswith(">"):
        bare = bare[1:-1]
    if not _MESSAGE_ID.fullmatch(bare):
        raise ValueError(f"invalid Message-ID: {message_id!r}")
    return f"<{bare}>"


def build_mime(email: OutgoingEmail, *, now: datetime | None = None) -> EmailMessage:
    """The MIME message for `email`: multipart/alternative (text, HTML), UTF-8, stable Message-ID.

    Raises ValueError when an address or the message id is invalid.
    """
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = parse_address(email.from_addr)
    message["To"] = parse_address(email.to_addr)
    if email.reply_to:
        message["Reply-To"] = parse_address(email.reply_to)
    message["Subject"] = clean_header_text(email.subject)
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = format_message_id(email.message_id)
    message.set_content(email.text_body, subtype="plain", charset="utf-8", cte=_BODY_CTE)
    message.add_alternative(email.html_body, subtype="html", charset="utf-8", cte=_BODY_CTE)
    for part in message.iter_parts():
        del part["MIME-Version"]  # belongs on the top-level message only
    return message
