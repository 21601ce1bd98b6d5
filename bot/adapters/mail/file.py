"""Delivery into a directory of `.eml` files: the demo and development backend.

One file per message id, written atomically, so a resend of the same message overwrites
its own file instead of adding a second copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

from bot.adapters.mail.mime import build_mime
from recovery.domain import OutgoingEmail
from recovery.protocols import PermanentMailError, TemporaryMailError

_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9._@+=-]")
_MAX_STEM = 150


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One email as read back from the outbox directory."""

    path: Path
    message_id: str
    from_addr: str
    to_addr: str
    subject: str
    date: datetime | None
    text: str
    html: str | None


def eml_filename(message_id: str) -> str:
    """`<message id>.eml`, made filesystem safe; a hash suffix keeps altered ids distinct."""
    bare = message_id.strip().removeprefix("<").removesuffix(">")
    stem = _UNSAFE_FILENAME_CHARS.sub("_", bare).lstrip(".")[:_MAX_STEM]
    if stem != bare:
        stem = f"{stem}-{hashlib.sha256(message_id.encode()).hexdigest()[:12]}"
    return f"{stem}.eml"


class FileMailer:
    """A Mailer that writes each email to `directory/<message id>.eml`."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"FileMailer(directory={str(self.directory)!r})"

    async def send(self, email: OutgoingEmail) -> None:
        """Write the email; the same message id always lands in the same file."""
        try:
            content = build_mime(email).as_bytes()
        except ValueError as exc:
            raise PermanentMailError(f"cannot build email {email.message_id}: {exc}") from exc
        target = self.directory / eml_filename(email.message_id)
        try:
            await asyncio.to_thread(_write_atomically, target, content)
        except OSError as exc:
            raise TemporaryMailError(f"{email.message_id}: cannot write {target}: {exc}") from exc


def _write_atomically(target: Path, content: bytes) -> None:
    """Write to a temporary file beside `target`, then rename over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


def list_outbox(directory: Path) -> list[OutboxEntry]:
    """Every email in the outbox directory, newest first (empty if it does not exist)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    entries = [_read_entry(path) for path in directory.glob("*.eml") if path.is_file()]
    return sorted(entries, key=_newest_first_key)


def _read_entry(path: Path) -> OutboxEntry:
    """Parse one `.eml` file into an OutboxEntry."""
    with path.open("rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    date_header = message["Date"]
    return OutboxEntry(
        path=path,
        message_id=str(message["Message-ID"] or ""),
        from_addr=str(message["From"] or ""),
        to_addr=str(message["To"] or ""),
        subject=str(message["Subject"] or ""),
        date=getattr(date_header, "datetime", None),
        text=text_part.get_content() if text_part is not None else "",
        html=html_part.get_content() if html_part is not None else None,
    )


def _newest_first_key(entry: OutboxEntry) -> tuple[float, str]:
    """Sort key: newest date first, then by file name for a stable order."""
    timestamp = entry.date.timestamp() if entry.date is not None else 0.0
    return (-timestamp, entry.path.name)
