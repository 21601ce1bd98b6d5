"""Stripe events → recovery actions. The payload is a hint; Stripe is re-read for the truth."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recovery.cases import (
    SETTLED_STATUS_BY_EVENT,
    CaseEngine,
    InSameTransaction,
    close_customer_cases,
    upsert_customer,
)
from recovery.customers.service import FACT_EVENT_PREFIXES, enqueue_refresh
from recovery.domain import InvoiceSnapshot
from recovery.jobkinds import JobKind
from recovery.plans.card_events import card_update_customer
from recovery.snapshots import customer_snapshot, invoice_snapshot
from storage.db import Database
from storage.models import StripeEventRow
from storage.queue import enqueue
from storage.stripe_events import mark_processed

log = logging.getLogger("dunbot.recovery")

HANDLED_EVENT_TYPES = frozenset(
    {"invoice.payment_failed", "customer.updated", "customer.deleted", *SETTLED_STATUS_BY_EVENT}
)


class EventProcessor:
    """Runs one stored Stripe event through the case engine and records the result."""

    def __init__(
        self,
        *,
        db: Database,
        cases: CaseEngine,
        playbook_event_types: frozenset[str] = frozenset(),
        refresh_customer_facts: bool = False,
        dunning_plans: bool = False,
    ) -> None:
        self.db = db
        self.dunning_plans = dunning_plans
        self.cases = cases
        self.playbook_event_types = playbook_event_types
        self.refresh_customer_facts = refresh_customer_facts

    async def process(self, event_id: str) -> str:
        """Handle one stored event; it is marked processed (and its follow-up jobs queued) in
        the transaction that applies it, or in one of its own when nothing else is written."""
        async with self.db.sessions() as session:
            row = (
                await session.execute(
                    select(StripeEventRow.type, StripeEventRow.payload).where(
                        StripeEventRow.id == event_id
                    )
                )
            ).first()
        if row is None:
            return "missing"
        event_type, payload = row.type, row.payload
        recorded = False

        async def record(session: AsyncSession, result: str) -> None:
            nonlocal recorded
            await self._record(session, event_id, event_type, payload, result)
            recorded = True

        result = await self._dispatch(event_type, payload, actor=f"stripe:{event_id}", then=record)
        if not recorded:
            async with self.db.transaction() as session:
                await self._record(session, event_id, event_type, payload, result)
        log.info(
            "stripe event processed",
            extra={"event_id": event_id, "type": event_type, "result": result},
        )
        return result

    async def _record(
        self,
        session: AsyncSession,
        event_id: str,
        event_type: str,
        payload: dict[str, Any],
        result: str,
    ) -> None:
        """Mark the event processed and queue what follows it (facts refresh, playbooks)."""
        await mark_processed(session, event_id=event_id, result=result)
        customer = _customer_of(event_type, payload) if self.refresh_customer_facts else None
        if customer is not None:
            await enqueue_refresh(session, customer_id=customer, cause=event_id)
        card_owner = card_update_customer(event_type, payload) if self.dunning_plans else None
        if card_owner is not None:
            await enqueue(
                session,
                kind=JobKind.PLAN_CARD_UPDATED,
                payload={"customer_id": card_owner, "event_id": event_id},
                dedupe_key=f"plan_card:{event_id}",
            )
        if event_type in self.playbook_event_types:
            await enqueue(
                session,
                kind=JobKind.EVALUATE_PLAYBOOKS,
                payload={"event_id": event_id},
                dedupe_key=f"playbooks:{event_id}",
            )

    async def _dispatch(
        self, event_type: str, payload: dict[str, Any], *, actor: str, then: InSameTransaction
    ) -> str:
        obj = payload.get("data", {}).get("object", {})
        if event_type == "invoice.payment_failed":
            return await self.cases.on_payment_failed(obj["id"], actor=actor, then=then)
        if event_type in SETTLED_STATUS_BY_EVENT:
            return await self.cases.settle(
                obj["id"],
                SETTLED_STATUS_BY_EVENT[event_type],
                actor=actor,
                invoice=_invoice_hint(obj),
                then=then,
            )
        if event_type == "customer.updated":
            async with self.db.transaction() as session:
                await _refresh_customer(session, obj)
                await then(session, "customer_refreshed")
            return "customer_refreshed"
        if event_type == "customer.deleted":
            async with self.db.transaction() as session:
                closed = await close_customer_cases(session, customer_id=obj["id"], actor=actor)
                await then(session, f"customer_deleted_closed_{closed}")
            return f"customer_deleted_closed_{closed}"
        return "ignored_unhandled_type"


async def _refresh_customer(session: AsyncSession, obj: dict[str, Any]) -> None:
    await upsert_customer(session, customer_snapshot(obj))


def _customer_of(event_type: str, payload: dict[str, Any]) -> str | None:
    """The customer whose facts a customer or invoice event may change."""
    if not event_type.startswith(FACT_EVENT_PREFIXES) or event_type == "customer.deleted":
        return None
    obj = payload.get("data", {}).get("object", {})
    if not isinstance(obj, dict):
        return None
    value = obj.get("id") if event_type.startswith("customer.") else obj.get("customer")
    if isinstance(value, dict):
        value = value.get("id")
    if event_type.startswith("customer.") and obj.get("object") != "customer":
        return None  # customer.subscription.*, customer.source.*, …
    return value if isinstance(value, str) and value.startswith("cus_") else None


def _invoice_hint(obj: dict[str, Any]) -> InvoiceSnapshot | None:
    """The settled invoice from the event, for amount_paid and the customer id."""
    try:
        return invoice_snapshot(obj)
    except (KeyError, ValueError, TypeError):
        return None
