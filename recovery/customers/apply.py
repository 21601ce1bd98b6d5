"""`dunbot rules apply`: the assignment rules (owner, dunning plan, exclusion) applied to
customers dunbot already knows, with a dry-run summary first.

Only assignments are applied in bulk: notifications and crossings are about a change, and
existing customers have none. Each customer's firing is keyed by its profile version, so
applying twice to unchanged customers acts once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recovery.customers.facts import CustomerFacts, compute_facts
from recovery.customers.rules import ASSIGNMENTS, Applied, CustomerRules, owners_of
from recovery.customers.service import CustomerFactsService
from recovery.customers.view import customer_view
from recovery.domain import CustomerSnapshot
from recovery.playbooks.evaluate import first_failure
from recovery.playbooks.fields import CUSTOMER_CREATED, CUSTOMER_CREATED_OR_UPDATED
from recovery.playbooks.rules import Rule
from recovery.playbooks.store import rule_overrides
from recovery.protocols import NotFoundError
from storage.db import Database
from storage.models import CustomerProfile, CustomerRow, utcnow

APPLY_TRIGGERS = (CUSTOMER_CREATED, CUSTOMER_CREATED_OR_UPDATED)


@dataclass
class ApplyReport:
    """What a bulk apply did (or would do), per customer and in total."""

    dry_run: bool
    customers: int = 0
    lines: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    missing: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        verb = "would" if self.dry_run else "did"
        head = f"{self.customers} customer(s) checked; rules {verb}:"
        if not self.counts:
            return [head, "  nothing (no assignment rule matched)"]
        return [head, *(f"  {count} × {what}" for what, count in sorted(self.counts.items()))]


def assignment_rules(rules: list[Rule]) -> list[Rule]:
    """Customer rules that assign something on creation or update (what bulk apply runs)."""
    return [
        r
        for r in rules
        if r.actions
        and r.actions[0].type in ASSIGNMENTS
        and any(t in APPLY_TRIGGERS for t in r.triggers)
    ]


async def known_customers(session: AsyncSession) -> list[str]:
    """Every customer id dunbot has a profile or a record of, sorted."""
    profiles = (await session.scalars(select(CustomerProfile.customer_id))).all()
    rows = await session.scalars(select(CustomerRow.id).where(CustomerRow.deleted.is_(False)))
    return sorted(set(profiles) | set(rows.all()))


async def apply_rules(
    *,
    db: Database,
    rules: CustomerRules,
    service: CustomerFactsService,
    customer_ids: list[str] | None,
    dry_run: bool,
) -> ApplyReport:
    """Apply (or, with `dry_run`, describe) the assignment rules to the given customers."""
    report = ApplyReport(dry_run=dry_run)
    async with db.sessions() as session:
        ids = customer_ids if customer_ids is not None else await known_customers(session)
        overrides = await rule_overrides(session)
    candidates = [
        r
        for r in assignment_rules(rules.playbook.customer_rules)
        if overrides.get(r.name, r.enabled)
    ]
    for customer_id in ids:
        customer, facts = await _current(db, service, customer_id)
        if customer is None or facts is None:
            report.missing.append(customer_id)
            continue
        report.customers += 1
        if not dry_run and service.history is not None:
            await service.refresh(customer_id)  # stores the facts; change triggers fire too
        async with db.transaction() as session:
            profile = await session.get(CustomerProfile, customer_id)
            if profile is None and not dry_run:
                report.missing.append(customer_id)
                continue
            view = customer_view(
                customer,
                facts,
                segment=profile.segment if profile else None,
                owners=await owners_of(session, customer_id),
                dunning_plan=profile.dunning_plan if profile else None,
                excluded=bool(profile and profile.excluded),
                now=utcnow(),
            )
            matched = [
                (rule, CUSTOMER_CREATED_OR_UPDATED)
                for rule in candidates
                if first_failure(rule, view) is None
            ]
            applied = await rules.apply(
                session,
                customer=customer,
                view=view,
                matched=matched,
                event_id=f"apply:{customer_id}:v{profile.version if profile else 0}",
                dry_run=dry_run,
            )
        for result in applied:
            report.lines.append(_line(customer_id, result))
            if result.outcome in ("assigned", "dry-run", "queued"):
                report.counts[f"{result.action}: {result.detail}"] += 1
    return report


async def _current(
    db: Database, service: CustomerFactsService, customer_id: str
) -> tuple[CustomerSnapshot | None, CustomerFacts | None]:
    """The customer and their facts as Stripe has them now (as stored, without Stripe)."""
    history = service.history
    if history is not None:
        try:
            snapshot = await history.get_customer(customer_id)
        except NotFoundError:
            return None, None
        if snapshot.deleted:
            return None, None
        invoices = await history.invoice_history(customer_id)
        return snapshot, compute_facts(invoices, now=service.clock(), rating=service.rating)
    async with db.sessions() as session:
        profile = await session.get(CustomerProfile, customer_id)
        row = await session.get(CustomerRow, customer_id)
    if profile is None:
        return None, None
    snapshot = CustomerSnapshot(
        id=customer_id,
        name=row.name if row else None,
        email=row.email if row else None,
        metadata=dict(profile.metadata_fields or {}),
        created=profile.customer_since,
    )
    return snapshot, CustomerFacts.from_dict(profile.facts or {})


def _line(customer_id: str, result: Applied) -> str:
    over = f" (over {', '.join(result.over)})" if result.over else ""
    return f"{customer_id}  {result.rule}: {result.outcome} {result.detail}{over}".rstrip()
