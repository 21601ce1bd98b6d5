"""build_mime: headers, structure, and header-injection safety."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from bot.adapters.mail.mime import build_mime, format_message_id, parse_address
from recovery.domain import OutgoingEmail
from tests.support.mail import part_text

MakeEmail = Callable[..., OutgoingEmail]


def reparse(email: OutgoingEmail) -> EmailMessage:
    """Serialise and parse back, as a receiving server would."""
    parsed = BytesParser(policy=policy.default).parsebytes(build_mime(email).as_bytes())
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_headers_and_alternative_parts(make_email: MakeEmail) -> None:
    sent_at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    message = build_mime(make_email(), now=sent_at)

    assert message["From"] == "Acme Billing <billing@acme.test>"
    assert message["To"] == "Jane Doe <jane@customer.test>"
    assert message["Reply-To"] == "finance@acme.test"
    assert message["Message-ID"] == "<dunbot-case-7-draft-3@dunbot.test>"
    assert message["Date"] == "Sun, 01 Mar 2026 09:30:00 +0000"
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert [p.get_content_charset() for p in message.iter_parts()] == ["utf-8", "utf-8"]


def test_message_id_is_the_stable_one_from_the_email(make_email: MakeEmail) -> None:
    first = build_mime(make_email(message_id="<case-9@dunbot.test>"))
    second = build_mime(make_email(message_id="case-9@dunbot.test"))

    assert first["Message-ID"] == second["Message-ID"] == "<case-9@dunbot.test>"


def test_reply_to_is_left_out_when_unset(make_email: MakeEmail) -> None:
    assert "Reply-To" not in build_mime(make_email(reply_to=None))


def test_wire_format_is_seven_bit(make_email: MakeEmail) -> None:
    email = make_email(
        to_addr="Zoë Ünal <zoe@münchen.test>",
        subject="Zahlung für Rechnung fehlgeschlagen",
        text_body="Grüße – 49,00 €\n",
        html_body="<p>Grüße – 49,00 €</p>",
    )
    wire = build_mime(email).as_bytes()

    assert wire.isascii()
    message = reparse(email)
    assert message["Subject"] == "Zahlung für Rechnung fehlgeschlagen"
    assert message["To"].addresses[0].addr_spec == "zoe@xn--mnchen-3ya.test"
    assert part_text(message).replace("\r\n", "\n") == "Grüße – 49,00 €\n"


def test_line_breaks_in_the_subject_cannot_add_headers(make_email: MakeEmail) -> None:
    email = make_email(subject="Payment failed\r\nBcc: attacker@evil.test\r\n\r\nInjected body")
    message = reparse(email)

    assert message["Bcc"] is None
    assert message["Subject"] == "Payment failed Bcc: attacker@evil.test Injected body"
    assert b"\r\nBcc:" not in build_mime(email).as_bytes()


@pytest.mark.parametrize("field", ["to_addr", "from_addr", "reply_to"])
@pytest.mark.parametrize(
    "value",
    [
        "jane@customer.test\r\nBcc: attacker@evil.test",
        "jane@customer.test\nBcc: attacker@evil.test",
        "jane@customer.test, attacker@evil.test",
        "group: jane@customer.test;",
        "not an address",
        "jane@",
        "@customer.test",
        "jane@localhost",
        "josé@customer.test",
        " \r\n ",
    ],
)
def test_invalid_or_injected_addresses_raise(make_email: MakeEmail, field: str, value: str) -> None:
    with pytest.raises(ValueError):
        build_mime(make_email(**{field: value}))


def test_display_names_are_quoted_not_interpreted(make_email: MakeEmail) -> None:
    message = reparse(make_email(to_addr='"Doe, Jane <boss@evil.test>" <jane@customer.test>'))

    (address,) = message["To"].addresses
    assert address.addr_spec == "jane@customer.test"
    assert address.display_name == "Doe, Jane <boss@evil.test>"


def test_a_line_break_inside_a_display_name_is_stripped() -> None:
    address = parse_address("Jane\r\n Doe <jane@customer.test>")

    assert (address.display_name, address.addr_spec) == ("Jane Doe", "jane@customer.test")


@pytest.mark.parametrize("value", ["no-at-sign", "a b@c.test", "<a@b.test>\r\nBcc: x@y.test", ""])
def test_invalid_message_ids_raise(value: str) -> None:
    with pytest.raises(ValueError, match="Message-ID"):
        format_message_id(value)
