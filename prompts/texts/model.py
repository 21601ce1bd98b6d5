"""The shape of one language's template sentences."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LocaleTexts:
    """All template sentences of one language."""

    subjects: dict[str, str]
    openings: dict[str, str]
    reasons: dict[str, str]
    retry: str
    no_retry: str
    final: str
    joiner: str = " "  # between sentences; Japanese joins without spaces
