"""Pausing dunning for a customer: held failures wait, resume re-evaluates them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recovery import audit
from recovery.actors import Actor
from recovery.jobkinds import JobKind, invoice_serial_key
from recovery.storable_text import storable_text
from storage.models import OPEN_CASE_STATUSES, Case, CustomerProfile, Pause, utcnow
from storage.queue import enqueue, run_now


@dataclass(frozen=True, slots=True)
class PauseState:
    customer_id: str
    until: datetime | None
    reason: str | None
    paused_by: str
    excluded: bool = False  # excluded from dunning (a customer rule or /dunning exclude)


async def active_pause(
    session: AsyncSession, customer_id: str, *, now: datetime | None = None
) -> PauseState | None:
    """The customer's pause if one is in force now (an expired one counts as none).

    An exclusion from dunning holds like a pause without end, until `/dunning include`.
    """
    profile = await session.get(CustomerProfile, customer_id)
    if profile is not None and profile.excluded:
        by = profile.excluded_by or "a rule"
        return PauseState(customer_id, None, profile.excluded_reason, by, excluded=True)
    pause = await session.get(Pause, customer_id)
    if pause is None:
        return None
    if pause.until is not None and pause.until <= (now or utcnow()):
        return None
    return PauseState(pause.customer_id, pause.until, pause.reason, pause.paused_by)


async def pause_customer(
    session: AsyncSession,
    *,
    customer_id: str,
    until: datetime | None,
    reason: str | None,
    by: Actor,
) -> PauseState:
    """Pause (or re-pause with new terms); schedules the automatic resume at `until`."""
    reason = storable_text(reason, max_chars=1000)
    pause = await session.get(Pause, customer_id)
    if pause is None:
        pause = Pause(customer_id=customer_id, paused_by=by.audit_name)
        session.add(pause)
    pause.until, pause.reason, pause.created_at = until, reason, utcnow()
    pause.paused_by = by.audit_name
    await audit.record(
        session,
        actor=by.audit_name,
        action="customer_paused",
        customer_id=customer_id,
        until=until.isoformat() if until else None,
        reason=reason,
    )
    if until is not None:
        await enqueue(
            session,
            kind=JobKind.PAUSE_EXPIRED,
            payload={"customer_id": customer_id, "until": until.isoformat()},
            dedupe_key=f"pause_expired:{customer_id}:{until.isoformat()}",
            run_at=until,
        )
    return PauseState(customer_id, until, reason, by.audit_name)


async def resume_customer(session: AsyncSession, *, customer_id: str, by: Actor) -> int | None:
    """Lift the pause and re-evaluate the customer's open cases. None if it was not paused."""
    pause = await session.get(Pause, customer_id)
    if pause is None:
        return None
    await session.delete(pause)
    await audit.record(
        session, actor=by.audit_name, action="customer_resumed", customer_id=customer_id
    )
    return await reevaluate_customer(session, customer_id=customer_id, by=by.audit_name)


async def expire_pause(session: AsyncSession, *, customer_id: str, until: str) -> bool:
    """Job body: lift the pause if it is still the one that was scheduled to end now."""
    pause = await session.get(Pause, customer_id)
    if pause is None or pause.until is None or pause.until.isoformat() != until:
        return False
    if pause.until > utcnow():
        return False
    await session.delete(pause)
    await audit.record(
        session, actor="system:pause-expiry", action="pause_expired", customer_id=customer_id
    )
    await reevaluate_customer(session, customer_id=customer_id, by="system:pause-expiry")
    return True


async def exclude_customer(
    session: AsyncSession, *, customer_id: str, reason: str | None, by: Actor
) -> bool:
    """Exclude from dunning by hand (rules may exclude too); False when already excluded."""
    profile = await session.get(CustomerProfile, customer_id)
    if profile is None:
        profile = CustomerProfile(customer_id=customer_id, version=0, facts={})
        session.add(profile)
    if profile.excluded:
        return False
    profile.excluded = True
    profile.excluded_reason = storable_text(reason, max_chars=1000)
    profile.excluded_by = by.audit_name
    profile.included_by = None
    await audit.record(
        session,
        actor=by.audit_name,
        action="customer_excluded",
        customer_id=customer_id,
        reason=profile.excluded_reason,
    )
    return True


async def include_customer(session: AsyncSession, *, customer_id: str, by: Actor) -> int | None:
    """Lift an exclusion and re-evaluate the held failures; None if it was not excluded.

    The person's decision sticks: rules do not exclude the customer again.
    """
    profile = await session.get(CustomerProfile, customer_id)
    if profile is None or not profile.excluded:
        return None
    profile.excluded, profile.excluded_reason = False, None
    previous, profile.excluded_by = profile.excluded_by, None
    profile.included_by = by.audit_name
    await audit.record(
        session,
        actor=by.audit_name,
        action="customer_included",
        customer_id=customer_id,
        excluded_by=previous,
    )
    if await session.get(Pause, customer_id) is not None:
        return 0
    return await reevaluate_customer(session, customer_id=customer_id, by=by.audit_name)


async def reevaluate_customer(session: AsyncSession, *, customer_id: str, by: str) -> int:
    """Queue a fresh look (from Stripe) at each open case of the customer."""
    cases = (
        await session.scalars(
            select(Case).where(Case.customer_id == customer_id, Case.status.in_(OPEN_CASE_STATUSES))
        )
    ).all()
    for case in cases:
        # Drafting and approved emails held by the pause go ahead now (each re-checks Stripe).
        await run_now(
            session,
            serial_key=invoice_serial_key(case.invoice_id),
            kinds=[JobKind.DRAFT_EMAIL, JobKind.SEND_EMAIL],
        )
        await enqueue(
            session,
            kind=JobKind.REEVALUATE_CASE,
            payload={"case_id": case.id, "by": by},
            dedupe_key=f"reevaluate:{case.id}:{uuid.uuid4().hex}",
            serial_key=invoice_serial_key(case.invoice_id),
        )
    return len(cases)
