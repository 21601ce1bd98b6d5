"""The audit history as the dashboard shows it: rows for the page, lines for the CSV export.

Pure functions, no I/O: `bot/routes/history.py` reads entries with `recovery.history` and
renders them with these.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from recovery.history import HistoryEntry, action_label, actor_label, actor_parts, detail_text

CSV_COLUMNS = [
    "at_utc",
    "action",
    "what",
    "actor",
    "who",
    "invoice_id",
    "invoice_number",
    "customer_id",
    "customer_name",
    "customer_email",
    "case_id",
    "details",
    "detail_json",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One line of the history table."""

    at: str
    at_iso: str
    action: str
    what: str
    who: str
    invoice_id: str | None
    invoice_label: str | None
    customer_id: str | None
    customer_label: str | None
    details: str


def who(actor: str, *, names: Mapping[str, str]) -> str:
    """A Slack user's name when it is known (the demo's users), else the actor in words."""
    kind, ident = actor_parts(actor)
    if kind == "slack" and ident in names:
        return f"{names[ident]}, Slack {ident}"
    return actor_label(actor)


def history_row(entry: HistoryEntry, *, names: Mapping[str, str]) -> HistoryRow:
    """Format one entry for the page (times in UTC, like the rest of the dashboard)."""
    invoice_label = entry.invoice_number or entry.invoice_id
    return HistoryRow(
        at=f"{entry.at:%Y-%m-%d %H:%M:%S} UTC",
        at_iso=entry.at.isoformat(),
        action=entry.action,
        what=action_label(entry.action),
        who=who(entry.actor, names=names),
        invoice_id=entry.invoice_id,
        invoice_label=invoice_label,
        customer_id=entry.customer_id,
        customer_label=entry.customer_name or entry.customer_email,
        details=detail_text(entry.detail),
    )


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run: text starting like a formula gets a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_header() -> str:
    """The CSV's first line."""
    return csv_lines([], header=True)


def csv_lines(
    entries: Iterable[HistoryEntry], *, names: Mapping[str, str] | None = None, header: bool = False
) -> str:
    """Entries as CSV text (RFC 4180 quoting, CRLF line ends), the header first if asked."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header:
        writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow(
            _cell(value)
            for value in (
                entry.at.isoformat(),
                entry.action,
                action_label(entry.action),
                entry.actor,
                who(entry.actor, names=names or {}),
                entry.invoice_id,
                entry.invoice_number,
                entry.customer_id,
                entry.customer_name,
                entry.customer_email,
                entry.case_id,
                detail_text(entry.detail),
                json.dumps(entry.detail, sort_keys=True, ensure_ascii=False, default=str),
            )
        )
    return buffer.getvalue()
