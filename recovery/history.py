"""The audit trail read back: who did what to a case or a customer, when and why, newest first.

One query for every reader of the audit log: the dashboard's history page and its CSV
export, `dunbot audit`, and Slack's `/dunning history <cus_…|in_…>` (the last ten entries:
`await audit_history(session, query=HistoryQuery.for_subject("in_…"), limit=10)`, then
`action_label`, `actor_parts` and `detail_text` to word each entry; escape for mrkdwn there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, Case, CustomerRow

MAX_LIMIT = 10_000
_SINCE = re.compile(r"^\s*(\d{1,5})\s*([mhdw])\s*$", re.IGNORECASE)
_SINCE_UNITS = {
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}

# What each action means, in words a finance person reads. Unknown actions (added later by
# other parts of dunbot) fall back to the action's name with spaces.
ACTION_LABELS: dict[str, str] = {
    "case_opened": "Case opened",
    "failure_held_paused": "Failure held: customer paused",
    "vip_task_opened": "VIP task opened",
    "case_escalated": "Case escalated",
    "email_round_planned": "Email round planned",
    "draft_created": "Draft written",
    "draft_approved": "Draft approved",
    "draft_rejected": "Draft rejected",
    "draft_edited": "Draft edited",
    "draft_regeneration_requested": "New draft requested",
    "email_sent": "Email sent",
    "email_failed": "Email failed",
    "email_unknown": "Email outcome unknown",
    "email_retrying": "Email to be retried",
    "email_retry_requested": "Email resend requested",
    "email_marked_sent": "Email marked as sent",
    "vip_task_claimed": "VIP task claimed",
    "vip_task_released": "VIP task released",
    "vip_task_done": "VIP task done",
    "customer_paused": "Customer paused",
    "customer_resumed": "Customer resumed",
    "pause_expired": "Pause ended",
    "case_paid": "Invoice paid",
    "case_voided": "Invoice voided",
    "case_uncollectible": "Invoice marked uncollectible",
    "case_closed": "Case closed",
}

# Detail keys worth showing, in this order, with their label; the rest stays in the CSV.
_DETAIL_LABELS = {
    "reason": "reason",
    "note": "note",
    "instruction": "instruction",
    "until": "until",
    "segment": "segment",
    "round": "round",
    "not_before": "not before",
    "source": "source",
    "fallback_reason": "fallback",
    "error": "error",
    "cancelled_jobs": "jobs cancelled",
}


class HistoryQueryError(ValueError):
    """A filter that cannot be understood; the message says what to write instead."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryQuery:
    """Which entries to read. Every field narrows; none at all means the whole log.

    `customer` is a customer id (cus_…) or an email address; `invoice` an invoice id (in_…).
    """

    customer: str | None = None
    invoice: str | None = None
    since: datetime | None = None
    action: str | None = None
    actor: str | None = None

    def __post_init__(self) -> None:
        if self.customer and not (self.customer.startswith("cus_") or "@" in self.customer):
            raise HistoryQueryError("Customer: give a customer id (cus_…) or an email address.")
        if self.invoice and not self.invoice.startswith("in_"):
            raise HistoryQueryError("Invoice: give an invoice id (in_…).")

    @classmethod
    def for_subject(cls, subject: str, **fields: Any) -> HistoryQuery:
        """`cus_…`, an email address or `in_…`, as typed after `/dunning history`."""
        subject = subject.strip()
        if subject.startswith("in_"):
            return cls(invoice=subject, **fields)
        if subject.startswith("cus_") or "@" in subject:
            return cls(customer=subject, **fields)
        raise HistoryQueryError(
            f"{subject[:40]!r} is neither a customer (cus_… or email) nor an invoice (in_…)."
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryEntry:
    """One audit entry with the invoice of its case, as the readers show it."""

    id: int
    at: datetime
    actor: str
    action: str
    case_id: int | None
    invoice_id: str | None
    invoice_number: str | None
    customer_id: str | None
    customer_name: str | None
    customer_email: str | None
    detail: dict[str, Any]

    @property
    def label(self) -> str:
        """The action in words."""
        return action_label(self.action)


def action_label(action: str) -> str:
    """`draft_approved` → "Draft approved"; unknown actions read as their name."""
    return ACTION_LABELS.get(action) or action.replace("_", " ").capitalize()


def actor_parts(actor: str) -> tuple[str, str]:
    """`slack:U123` → ("slack", "U123"); `stripe:evt_1` → ("stripe", "evt_1"); bare → ("", x)."""
    kind, sep, ident = actor.partition(":")
    return (kind, ident) if sep else ("", actor)


def actor_label(actor: str) -> str:
    """Who did it, in words: a Slack user, a Stripe event, or dunbot itself."""
    kind, ident = actor_parts(actor)
    if kind == "slack":
        return f"Slack user {ident}"
    if kind == "stripe":
        return f"Stripe ({ident})"
    if kind == "system":
        return f"dunbot ({ident})" if ident else "dunbot"
    if kind == "cli":
        return f"command line ({ident})" if ident else "command line"
    return actor or "unknown"


def _readable(value: Any) -> str:
    """Lists joined with commas, ISO timestamps to the minute in UTC, the rest as text."""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return f"{moment:%Y-%m-%d %H:%M} UTC"
    return str(value)


def detail_text(detail: dict[str, Any]) -> str:
    """The details a reader needs (reason, note, until…) as `label: value; …`; empty values
    are left out."""
    parts = []
    for key, label in _DETAIL_LABELS.items():
        value = detail.get(key)
        if value in (None, "", [], {}):
            continue
        parts.append(f"{label}: {_readable(value)}")
    return "; ".join(parts)


def parse_since(text: str, *, now: datetime) -> datetime:
    """`7d`, `12h`, `2w`, `30m` before `now`, or a date `2026-11-01` (its start, UTC)."""
    match = _SINCE.match(text)
    if match:
        return now - int(match.group(1)) * _SINCE_UNITS[match.group(2).lower()]
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise HistoryQueryError(
            f"{text[:40]!r} is not a time span or a date: use e.g. 7d, 12h, 2w or 2026-11-01."
        ) from None
    return datetime.combine(day, time.min, tzinfo=UTC)


async def _customer_ids(session: AsyncSession, customer: str) -> list[str]:
    """The customer ids an id or an email address stands for (an email may have several)."""
    if "@" not in customer:
        return [customer]
    address = customer.strip().lower()
    from_customers = select(CustomerRow.id).where(func.lower(CustomerRow.email) == address)
    from_cases = select(Case.customer_id).where(func.lower(Case.customer_email) == address)
    rows = await session.scalars(from_customers.union(from_cases))
    return sorted(set(rows))


async def audit_history(
    session: AsyncSession,
    *,
    query: HistoryQuery,
    limit: int = 200,
    offset: int = 0,
    older_than: HistoryEntry | None = None,
) -> list[HistoryEntry]:
    """The entries `query` selects, newest first, at most `limit` of them after `offset`.

    `older_than` continues a listing after its last entry (stable while entries are added).
    """
    customer_id = func.coalesce(AuditEntry.customer_id, Case.customer_id)
    statement = (
        select(
            AuditEntry,
            Case.invoice_id,
            Case.invoice_number,
            customer_id,
            func.coalesce(CustomerRow.name, Case.customer_name),
            func.coalesce(CustomerRow.email, Case.customer_email),
        )
        .outerjoin(Case, Case.id == AuditEntry.case_id)
        .outerjoin(CustomerRow, CustomerRow.id == customer_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(max(1, min(limit, MAX_LIMIT)))
        .offset(max(0, offset))
    )
    if query.customer:
        ids = await _customer_ids(session, query.customer)
        if not ids:
            return []
        cases_of_customer = select(Case.id).where(Case.customer_id.in_(ids))
        statement = statement.where(
            or_(AuditEntry.customer_id.in_(ids), AuditEntry.case_id.in_(cases_of_customer))
        )
    if query.invoice:
        statement = statement.where(Case.invoice_id == query.invoice)
    if older_than is not None:
        statement = statement.where(
            or_(
                AuditEntry.at < older_than.at,
                and_(AuditEntry.at == older_than.at, AuditEntry.id < older_than.id),
            )
        )
    if query.since is not None:
        statement = statement.where(AuditEntry.at >= query.since)
    if query.action:
        statement = statement.where(AuditEntry.action == query.action)
    if query.actor:
        statement = statement.where(AuditEntry.actor.contains(query.actor, autoescape=True))
    rows = (await session.execute(statement)).all()
    return [
        HistoryEntry(
            id=entry.id,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            case_id=entry.case_id,
            invoice_id=invoice_id,
            invoice_number=invoice_number,
            customer_id=customer,
            customer_name=name,
            customer_email=email,
            detail=dict(entry.detail or {}),
        )
        for entry, invoice_id, invoice_number, customer, name, email in rows
    ]


async def known_actions(session: AsyncSession) -> list[str]:
    """Every action in the log plus the known ones, sorted by label (for a filter's choices)."""
    logged = set(await session.scalars(select(AuditEntry.action).distinct()))
    return sorted(logged | set(ACTION_LABELS), key=action_label)
