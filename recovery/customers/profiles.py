"""Customer profiles: the stored facts, replaced in one transaction that sees the old ones."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recovery.customers.facts import CustomerFacts
from recovery.domain import CustomerSnapshot
from storage.models import Case, CustomerProfile, CustomerRow


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileChange:
    """What one refresh changed: the facts before (None for a new customer) and after."""

    customer_id: str
    created: bool
    changed: bool
    before: CustomerFacts | None
    after: CustomerFacts
    version: int


def fingerprint(customer: CustomerSnapshot, facts: CustomerFacts) -> str:
    """A digest of everything a "created or updated" trigger watches."""
    watched = {
        "facts": facts.as_dict(),
        "name": customer.name,
        "email": customer.email,
        "metadata": dict(sorted(customer.metadata.items())),
        "deleted": customer.deleted,
    }
    text = json.dumps(watched, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


async def customer_segment(session: AsyncSession, customer: CustomerSnapshot) -> str:
    """vip | standard: a metadata override, else the newest case's segment, else standard."""
    tier = (customer.metadata.get("dunbot_tier") or "").strip().lower()
    if tier in ("vip", "standard"):
        return tier
    row = await session.get(CustomerRow, customer.id)
    if row is not None and row.tier_override:
        return row.tier_override
    latest = await session.scalar(
        select(Case.segment)
        .where(Case.customer_id == customer.id, Case.segment.is_not(None))
        .order_by(Case.id.desc())
        .limit(1)
    )
    return latest or "standard"


async def store_facts(
    session: AsyncSession,
    *,
    customer: CustomerSnapshot,
    facts: CustomerFacts,
    segment: str,
    now: datetime,
) -> ProfileChange:
    """Replace the stored facts; the change says what they were (for triggers and crossings)."""
    profile = await session.get(CustomerProfile, customer.id, with_for_update=True)
    created = profile is None
    if profile is None:
        profile = CustomerProfile(customer_id=customer.id, version=0, facts={}, created_at=now)
        session.add(profile)
    before = None if created else CustomerFacts.from_dict(profile.facts or {})
    digest = fingerprint(customer, facts)
    changed = created or digest != profile.fingerprint
    if changed:
        profile.version = (profile.version or 0) + 1
        profile.facts = facts.as_dict()
        profile.fingerprint = digest
    profile.segment = segment
    profile.customer_since = customer.created
    profile.metadata_fields = dict(customer.metadata)
    profile.computed_at = now
    await session.flush()
    return ProfileChange(
        customer_id=customer.id,
        created=created,
        changed=changed,
        before=before,
        after=facts,
        version=profile.version,
    )


async def profile_of(session: AsyncSession, customer_id: str) -> CustomerProfile | None:
    return await session.get(CustomerProfile, customer_id)
