"""Reading sent emails back in assertions."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Literal


def part_text(message: EmailMessage, subtype: Literal["plain", "html"] = "plain") -> str:
    """The decoded text of the message's text/plain (or text/html) body; fails if it has none."""
    part = message.get_body((subtype,))
    assert part is not None, f"the message has no text/{subtype} body"
    text = part.get_content()
    assert isinstance(text, str)
    return text
