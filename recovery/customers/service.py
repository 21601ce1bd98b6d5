"""Keeping customer facts current: re-read the customer and their invoices, store the facts,
and hand the change to the customer rules in the same transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recovery.customers.facts import InvoiceRecord, RatingConfig, compute_facts
from recovery.customers.ports import CustomerHistory
from recovery.customers.profiles import ProfileChange, customer_segment, store_facts
from recovery.domain import CustomerSnapshot
from recovery.jobkinds import JobKind, priority_of
from recovery.protocols import NotFoundError
from storage.db import Database
from storage.models import Job, JobStatus, utcnow
from storage.queue import enqueue

log = logging.getLogger("dunbot.customers")

# Stripe events after which a customer's facts may have changed.
FACT_EVENT_PREFIXES = ("customer.", "invoice.")


class ChangeListener(Protocol):
    """Customer rules: told of each stored change, inside its transaction."""

    async def on_change(
        self, session: AsyncSession, *, change: ProfileChange, customer: CustomerSnapshot
    ) -> int: ...


def customer_serial_key(customer_id: str) -> str:
    """Refreshes and rule actions of one customer never run at the same time."""
    return f"customer:{customer_id}"


async def enqueue_refresh(session: AsyncSession, *, customer_id: str, cause: str) -> None:
    """Queue a recomputation of the customer's facts (once per cause, e.g. an event id).

    Coalesced: when a refresh of the customer is already queued and has not started yet, it
    will read Stripe after this cause anyway, so no second one is queued (ten failures of one
    customer in a burst cost one refresh). One that has started (or failed once) may have read
    Stripe before the cause: then a new one is queued."""
    waiting = await session.scalar(
        select(Job.id)
        .where(
            Job.serial_key == customer_serial_key(customer_id),
            Job.status == JobStatus.QUEUED,
            Job.kind == JobKind.REFRESH_CUSTOMER,
            Job.attempts == 0,
            Job.last_error.is_(None),
        )
        .limit(1)
    )
    if waiting is not None:
        return
    await enqueue(
        session,
        kind=JobKind.REFRESH_CUSTOMER,
        payload={"customer_id": customer_id, "cause": cause},
        dedupe_key=f"refresh_customer:{customer_id}:{cause}",
        serial_key=customer_serial_key(customer_id),
        priority=priority_of(JobKind.REFRESH_CUSTOMER),
    )


class CustomerFactsService:
    """Recomputes and stores one customer's facts from Stripe."""

    def __init__(
        self,
        *,
        db: Database,
        history: CustomerHistory | None,
        rating: RatingConfig,
        listener: ChangeListener | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.history = history
        self.rating = rating
        self.listener = listener
        self.clock = clock

    async def refresh(self, customer_id: str) -> ProfileChange | None:
        """Job body: facts from Stripe's current state (so event order does not matter)."""
        if self.history is None:
            return None
        try:
            customer = await self.history.get_customer(customer_id)
        except NotFoundError:
            return None
        if customer.deleted:
            return None
        invoices = await self.history.invoice_history(customer_id)
        return await self.store(customer, invoices=invoices)

    async def store(
        self, customer: CustomerSnapshot, *, invoices: list[InvoiceRecord]
    ) -> ProfileChange:
        """Compute and store; the listener sees the change in the same transaction."""
        now = self.clock()
        facts = compute_facts(invoices, now=now, rating=self.rating)
        async with self.db.transaction() as session:
            segment = await customer_segment(session, customer)
            change = await store_facts(
                session, customer=customer, facts=facts, segment=segment, now=now
            )
            if self.listener is not None and change.changed:
                await self.listener.on_change(session, change=change, customer=customer)
        log.info(
            "customer facts refreshed",
            extra={
                "customer_id": customer.id,
                "changed": change.changed,
                "version": change.version,
            },
        )
        return change
