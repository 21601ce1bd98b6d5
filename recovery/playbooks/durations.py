"""Durations in rules: "7d", "12h", "30m", "45s", "2w"."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class DurationError(ValueError):
    """Not a duration; the message shows the accepted form."""


def parse_duration(text: str) -> timedelta:
    """'7d' → 7 days."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None:
        raise DurationError(f'"{text}" is not a duration: write e.g. "7d", "12h", "30m"')
    return timedelta(seconds=float(match[1]) * _UNIT_S[match[2].lower()])
