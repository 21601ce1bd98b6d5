"""Text from outside (Stripe customers, people in Slack) as both databases can store it.

PostgreSQL refuses a NUL character outright, both refuse a lone surrogate, and a value longer
than its column fails on PostgreSQL: such input is cleaned here, at the boundary, so it can
never make a job die or a click fail.
"""

from __future__ import annotations

import re

# C0 controls except tab, newline and carriage return; DEL; lone surrogates.
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
EMAIL_MAX_CHARS = 254  # RFC 5321's limit for a forward path
NAME_MAX_CHARS = 500


def storable_text(value: str | None, *, max_chars: int) -> str | None:
    """Without control characters (line breaks kept) or surrogates, stripped, at most
    `max_chars`; None when nothing is left."""
    if value is None:
        return None
    cleaned = _UNSTORABLE.sub("", value).strip()
    return cleaned[:max_chars].rstrip() or None


def storable_line(value: str | None, *, max_chars: int) -> str | None:
    """`storable_text` on one line: every run of whitespace becomes one space (names)."""
    if value is None:
        return None
    return storable_text(" ".join(_UNSTORABLE.sub("", value).split()), max_chars=max_chars)


def storable_email(value: str | None) -> str | None:
    """An address as given, cleaned; None when it cannot be one (too long, no @, spaces)."""
    cleaned = storable_text(value, max_chars=EMAIL_MAX_CHARS + 1)
    if cleaned is None or len(cleaned) > EMAIL_MAX_CHARS:
        return None
    if "@" not in cleaned or any(char.isspace() for char in cleaned):
        return None
    return cleaned
