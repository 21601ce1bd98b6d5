"""Rows for dashboard tests, inserted directly (no engine): cases and drafts at chosen times."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from storage.db import Database
from storage.models import Case, CaseStatus, Draft, DraftStatus

_invoice_numbers = itertools.count(1)


async def add_case(
    db: Database,
    *,
    created_at: datetime,
    status: CaseStatus = CaseStatus.OPEN,
    segment: str | None = "standard",
    currency: str = "usd",
    amount_due: int = 4900,
    resolved_at: datetime | None = None,
    customer_id: str | None = None,
    **fields: Any,
) -> int:
    """Insert a case; a paid one has recovered its amount and owes nothing. Returns its id."""
    paid = status == CaseStatus.PAID
    settled = status not in {CaseStatus.OPEN, CaseStatus.PAUSED, CaseStatus.ESCALATED}
    n = next(_invoice_numbers)
    case = Case(
        invoice_id=f"in_test{n:06d}",
        invoice_number=f"TEST-{n:04d}",
        customer_id=customer_id or f"cus_test{n:06d}",
        status=status,
        segment=segment,
        currency=currency,
        amount_due=amount_due,
        amount_remaining=0 if paid else amount_due,
        amount_recovered=amount_due if paid else 0,
        created_at=created_at,
        updated_at=created_at,
        resolved_at=resolved_at if settled else None,
        customer_email=f"customer{n}@example.com",
        **fields,
    )
    async with db.transaction() as session:
        session.add(case)
        await session.flush()
        return case.id


async def add_draft(
    db: Database,
    *,
    case_id: int,
    created_at: datetime,
    status: DraftStatus = DraftStatus.PENDING,
    decided_at: datetime | None = None,
    source: str = "ai",
    edited_by: str | None = None,
    cost_usd: float = 0.0,
) -> int:
    """Insert a draft of a case. Returns its id."""
    draft = Draft(
        case_id=case_id,
        status=status,
        subject="Your payment did not go through",
        body="We could not process your latest payment.",
        source=source,
        provider="openai" if source == "ai" else "template",
        model="gpt-test" if source == "ai" else None,
        prompt_version="v1",
        edited_by=edited_by,
        decided_by="U0FINANCE" if decided_at else None,
        decided_at=decided_at,
        cost_usd=cost_usd,
        created_at=created_at,
    )
    async with db.transaction() as session:
        session.add(draft)
        await session.flush()
        return draft.id
