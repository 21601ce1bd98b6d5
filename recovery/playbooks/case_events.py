"""dunbot's own case events (case opened, email sent, case paid, case escalated) as playbook
triggers: queued with the case change, in its transaction, only when a rule listens."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from recovery.jobkinds import JobKind
from storage.models import Case
from storage.queue import enqueue


def case_object(case: Case) -> dict[str, Any]:
    """The case as a playbook sees it (fields listed in recovery/playbooks/fields.py)."""
    return {
        "id": case.id,
        "object": "dunbot.case",
        "invoice": case.invoice_id,
        "invoice_number": case.invoice_number,
        "customer": case.customer_id,
        "customer_email": case.customer_email,
        "customer_name": case.customer_name,
        "status": str(case.status),
        "segment": case.segment,
        "currency": case.currency,
        "amount_due": case.amount_due,
        "amount_remaining": case.amount_remaining,
        "amount_recovered": case.amount_recovered,
        "attempt_count": case.attempt_count,
        "emails_sent": case.emails_sent,
        "decline_code": case.decline_code,
        "decline_category": case.decline_category,
    }


async def emit_case_event(
    session: AsyncSession,
    *,
    name: str,
    case: Case,
    wanted: Collection[str],
    occurrence: str | int = "",
) -> bool:
    """Queue `dunbot.case.<name>` for the playbooks when a rule listens; True when queued.

    `occurrence` tells repeated events of one case apart (the email round).
    """
    event_type = f"dunbot.case.{name}"
    if event_type not in wanted:
        return False
    event_id = f"dunbot_case_{case.id}_{name}" + (f"_{occurrence}" if occurrence != "" else "")
    event = {
        "id": event_id,
        "type": event_type,
        "object": "event",
        "data": {"object": case_object(case)},
    }
    await enqueue(
        session,
        kind=JobKind.EVALUATE_PLAYBOOKS,
        payload={"event": event},
        dedupe_key=f"playbooks:{event_id}",
    )
    return True
