"""FileMailer and list_outbox: atomic, idempotent per message id, readable back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.adapters.mail.file import FileMailer, eml_filename, list_outbox
from recovery.domain import OutgoingEmail
from recovery.protocols import PermanentMailError

MakeEmail = Callable[..., OutgoingEmail]


async def test_writes_one_eml_file_named_after_the_message_id(
    tmp_path: Path, make_email: MakeEmail
) -> None:
    outbox = tmp_path / "new" / "outbox"  # created on first send

    await FileMailer(outbox).send(make_email())

    assert [p.name for p in outbox.iterdir()] == ["dunbot-case-7-draft-3@dunbot.test.eml"]
    content = (outbox / "dunbot-case-7-draft-3@dunbot.test.eml").read_bytes()
    assert b"Message-ID: <dunbot-case-7-draft-3@dunbot.test>" in content
    assert b"multipart/alternative" in content


async def test_resending_the_same_message_id_overwrites(
    tmp_path: Path, make_email: MakeEmail
) -> None:
    mailer = FileMailer(tmp_path)

    await mailer.send(make_email(subject="First try"))
    await mailer.send(make_email(subject="Second try"))
    await mailer.send(make_email(message_id="another@dunbot.test"))

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "another@dunbot.test.eml",
        "dunbot-case-7-draft-3@dunbot.test.eml",
    ]  # no temporary files left behind either
    subjects = {entry.message_id: entry.subject for entry in list_outbox(tmp_path)}
    assert subjects["<dunbot-case-7-draft-3@dunbot.test>"] == "Second try"


async def test_list_outbox_reads_back_what_was_sent(tmp_path: Path, make_email: MakeEmail) -> None:
    email = make_email(text_body="Hi Jane,\n\nPlease pay 49,00 € here: https://pay.test/i/42\n")
    await FileMailer(tmp_path).send(email)

    (entry,) = list_outbox(tmp_path)
    assert entry.message_id == "<dunbot-case-7-draft-3@dunbot.test>"
    assert entry.subject == email.subject
    assert entry.to_addr == "Jane Doe <jane@customer.test>"
    assert entry.from_addr == "Acme Billing <billing@acme.test>"
    assert entry.text == email.text_body
    assert entry.html is not None and entry.html.strip() == email.html_body
    assert entry.date is not None and entry.date.tzinfo is not None


def test_list_outbox_of_a_missing_directory_is_empty(tmp_path: Path) -> None:
    assert list_outbox(tmp_path / "nothing-here") == []


def test_file_names_are_sanitised_and_distinct() -> None:
    plain = eml_filename("<case-1@dunbot.test>")
    hostile = eml_filename("../../etc/passwd@x.test")
    similar = eml_filename(".._.._etc_passwd@x.test")

    assert plain == "case-1@dunbot.test.eml"
    assert "/" not in hostile and not hostile.startswith(".")
    assert hostile != similar


async def test_an_invalid_address_is_a_permanent_failure(
    tmp_path: Path, make_email: MakeEmail
) -> None:
    with pytest.raises(PermanentMailError):
        await FileMailer(tmp_path).send(make_email(to_addr="not an address"))
    assert list(tmp_path.iterdir()) == []
