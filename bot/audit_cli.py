"""`dunbot audit`: the audit log on the command line, newest first, as lines or CSV."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bot.history_view import csv_lines
from recovery.history import (
    HistoryEntry,
    HistoryQuery,
    action_label,
    actor_label,
    audit_history,
    detail_text,
    parse_since,
)
from storage.db import Database


def entry_line(entry: HistoryEntry) -> str:
    """`2026-03-01 10:00:00 UTC  Draft rejected  Slack user U1  in_… (NUM)  cus_…  reason: …`."""
    invoice = entry.invoice_id or "-"
    if entry.invoice_id and entry.invoice_number:
        invoice = f"{entry.invoice_id} ({entry.invoice_number})"
    columns = [
        f"{entry.at:%Y-%m-%d %H:%M:%S} UTC",
        f"{action_label(entry.action):<30}",
        f"{actor_label(entry.actor):<28}",
        invoice,
        entry.customer_id or "-",
    ]
    details = detail_text(entry.detail)
    return "  ".join(columns) + (f"  {details}" if details else "")


def build_query(*, since: str, customer: str | None, invoice: str | None) -> HistoryQuery:
    """The query for the options; a HistoryQueryError says which option is wrong and how."""
    return HistoryQuery(
        customer=customer,
        invoice=invoice,
        since=parse_since(since, now=datetime.now(UTC)) if since else None,
    )


async def print_audit(
    *, database_url: str, query: HistoryQuery, limit: int, as_csv: bool, echo: Callable[[str], None]
) -> int:
    """Print the entries `query` selects (at most `limit`); returns how many were printed."""
    db = Database(database_url)
    try:
        async with db.sessions() as session:
            entries = await audit_history(session, query=query, limit=limit)
    finally:
        await db.dispose()
    if as_csv:
        echo(csv_lines(entries, header=True).rstrip("\r\n"))
    else:
        for entry in entries:
            echo(entry_line(entry))
    return len(entries)
