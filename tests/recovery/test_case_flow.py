"""The case state machine end to end: Stripe events in, drafts, tasks, emails and cards out."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from bot.adapters.stripe_billing import RATE_LIMIT_ATTEMPTS
from bot.slack.actors import slack_actor
from recovery import decisions
from recovery.pauses import pause_customer, resume_customer
from storage.models import (
    AuditEntry,
    Case,
    CaseStatus,
    DraftStatus,
    Job,
    JobStatus,
    OutboxEmail,
    OutboxStatus,
    TaskStatus,
    VipTask,
    utcnow,
)
from tests.recovery.conftest import Harness

IN_3_DAYS = int(time.time()) + 3 * 86400


def standard_invoice(
    h: Harness,
    *,
    invoice_id: str = "in_std",
    attempt: int = 1,
    customer: str = "cus_std",
    **fields: Any,
) -> None:
    h.stripe.add_customer(id=customer, email="ana@example.com", name="Ana")
    h.stripe.add_paid_invoices(customer=customer, count=2, amount=4_900)
    h.stripe.add_invoice(
        id=invoice_id,
        customer=customer,
        amount_due=4_900,
        attempt_count=attempt,
        next_payment_attempt=IN_3_DAYS,
        **fields,
    )
    h.stripe.add_failed_payment(invoice_id, decline_code="insufficient_funds")


async def approve_latest(h: Harness, case_id: int, user: str = "UFIN") -> decisions.Outcome:
    draft = (await h.drafts(case_id))[-1]
    async with h.db.transaction() as session:
        return await decisions.approve_draft(
            session, draft_id=draft.id, version=draft.version, actor=slack_actor(user)
        )


async def test_standard_failure_opens_case_drafts_and_asks_for_approval(h: Harness) -> None:
    standard_invoice(h)
    await h.deliver("invoice.payment_failed", "in_std")
    await h.run_jobs()
    case = await h.case("in_std")
    assert case is not None and case.status == CaseStatus.OPEN and case.segment == "standard"
    assert case.decline_category == "insufficient_funds"
    assert any("lifetime value $98.00" in reason for reason in case.segment_reasons)
    [draft] = await h.drafts(case.id)
    assert draft.status == DraftStatus.PENDING
    assert h.notifier.calls == [("sync_approval_card", draft.id)]
    [request] = h.drafter.requests
    assert request.customer_name == "Ana" and request.amount_due == 4_900
    assert request.will_retry is True


async def test_vip_by_ltv_gets_a_task_and_no_draft(h: Harness) -> None:
    h.stripe.add_customer(id="cus_vip", email="big@example.com", name="Big Co")
    h.stripe.add_paid_invoices(customer="cus_vip", count=3, amount=250_000, currency="eur")
    h.stripe.add_invoice(
        id="in_vip",
        customer="cus_vip",
        currency="eur",
        amount_due=9_900,
        attempt_count=1,
        next_payment_attempt=IN_3_DAYS,
    )
    await h.deliver("invoice.payment_failed", "in_vip")
    await h.run_jobs()
    case = await h.case("in_vip")
    assert case is not None and case.segment == "vip"
    assert "lifetime value €7,500.00 ≥ €4,000.00" in case.segment_reasons
    assert await h.drafts(case.id) == [] and h.drafter.requests == []
    async with h.db.sessions() as session:
        task = await session.scalar(select(VipTask).where(VipTask.case_id == case.id))
    assert task is not None and task.status == TaskStatus.OPEN
    assert h.notifier.calls == [("sync_vip_task_card", task.id)]
    [reminder] = await h.jobs("vip_claim_reminder")
    assert reminder.status == JobStatus.QUEUED
    assert (reminder.run_at - utcnow()) > timedelta(hours=1, minutes=59)


async def test_duplicate_failed_event_creates_nothing_new(h: Harness) -> None:
    standard_invoice(h)
    await h.deliver("invoice.payment_failed", "in_std")
    await h.run_jobs()
    await h.deliver("invoice.payment_failed", "in_std")  # same attempt, new event id
    await h.run_jobs()
    case = await h.case("in_std")
    assert case is not None
    assert len(await h.drafts(case.id)) == 1 and len(h.drafter.requests) == 1


async def test_stale_failed_event_for_paid_invoice_opens_no_case(h: Harness) -> None:
    standard_invoice(h)
    h.stripe.update_invoice("in_std", status="paid", amount_paid=4_900, amount_remaining=0)
    await h.deliver("invoice.payment_failed", "in_std", status="open", amount_remaining=4_900)
    await h.run_jobs()
    assert await h.case("in_std") is None
    assert h.drafter.requests == [] and h.notifier.calls == []


async def test_succeeded_before_failed_never_opens_a_case(h: Harness) -> None:
    standard_invoice(h)
    failed_payload = h.stripe.update_invoice("in_std")
    h.stripe.update_invoice("in_std", status="paid", amount_paid=4_900, amount_remaining=0)
    await h.deliver("invoice.payment_succeeded", "in_std")
    await h.run_jobs()
    await h.deliver(
        "invoice.payment_failed",
        "in_std",
        **{k: failed_payload[k] for k in ("status", "amount_remaining")},
    )
    await h.run_jobs()
    assert await h.case("in_std") is None and h.drafter.requests == []


async def test_payment_cancels_pending_work_and_updates_cards(h: Harness) -> None:
    standard_invoice(h)
    await h.deliver("invoice.payment_failed", "in_std")
    await h.run_jobs()
    case = await h.case("in_std")
    assert case is not None
    assert (await approve_latest(h, case.id)).ok  # email queued, not yet sent
    h.stripe.update_invoice("in_std", status="paid", amount_paid=4_900, amount_remaining=0)
    await h.deliver("invoice.payment_succeeded", "in_std")
    [process_paid] = [j for j in await h.jobs("process_stripe_event") if j.status == "queued"]
    # Process the payment before the queued send job gets a chance to run.
    await h.engine.events.process(process_paid.payload["event_id"])
    await h.run_jobs()
    case = await h.case("in_std")
    assert case is not None and case.status == CaseStatus.PAID
    assert case.amount_recovered == 4_900
    assert h.mailer.sent == []
    [send_job] = await h.jobs("send_email")
    assert send_job.status == JobStatus.CANCELLED
    async with h.db.sessions() as session:
        outbox = await session.scalar(select(OutboxEmail))
    assert outbox is not None and outbox.status == OutboxStatus.CANCELLED
    assert ("sync_case_cards", case.id) in h.notifier.calls
    # A stale failure after that never reopens the case.
    await h.deliver("invoice.payment_failed", "in_std", status="open", amount_remaining=4_900)
    await h.run_jobs()
    still = await h.case("in_std")
    assert still is not None and still.status == CaseStatus.PAID


async def test_void_and_uncollectible_resolve_the_case(h: Harness) -> None:
    for invoice_id, event, status, expected in (
        ("in_void", "invoice.voided", "void", CaseStatus.VOIDED),
        ("in_unc", "invoice.marked_uncollectible", "uncollectible", CaseStatus.UNCOLLECTIBLE),
    ):
        standard_invoice(h, invoice_id=invoice_id, customer=f"cus_{invoice_id}")
        await h.deliver("invoice.payment_failed", invoice_id)
        await h.run_jobs()
        h.stripe.update_invoice(invoice_id, status=status)
        await h.deliver(event, invoice_id)
        await h.run_jobs()
        case = await h.case(invoice_id)
        assert case is not None and case.status == expected
        [draft] = await h.drafts(case.id)
        assert draft.status == DraftStatus.CANCELLED


async def test_follow_up_rounds_are_spaced_and_capped(h: Harness) -> None:
    standard_invoice(h)
    for attempt in (1, 2, 3):
        h.stripe.update_invoice("in_std", attempt_count=attempt)
        await h.deliver("invoice.payment_failed", "in_std")
        await h.run_jobs()
        case = await h.case("in_std")
        assert case is not None
        drafts = await h.drafts(case.id)
        if attempt > 1:
            # The follow-up waits until MIN_DAYS_BETWEEN_EMAILS after the last email.
            [waiting] = [j for j in await h.jobs("draft_email") if j.status == "queued"]
            assert case.last_email_at is not None
            assert waiting.run_at - case.last_email_at >= timedelta(days=3)
            async with h.db.transaction() as session:
                await session.execute(
                    update(Job).where(Job.id == waiting.id).values(run_at=utcnow())
                )
            await h.run_jobs()
            drafts = await h.drafts(case.id)
        assert len(drafts) == attempt
        assert (await approve_latest(h, case.id)).ok
        await h.run_jobs()
    assert len(h.mailer.sent) == 3
    h.stripe.update_invoice("in_std", attempt_count=4)
    await h.deliver("invoice.payment_failed", "in_std")
    await h.run_jobs()
    case = await h.case("in_std")
    assert case is not None and case.status == CaseStatus.ESCALATED
    assert len(await h.drafts(case.id)) == 3
    assert ("escalate", case.id) in h.notifier.calls


async def test_paused_customer_failure_is_held_then_resumed(h: Harness) -> None:
    standard_invoice(h)
    async with h.db.transaction() as session:
        await pause_customer(
            session, customer_id="cus_std", until=None, reason="dispute", by=slack_actor("UFIN")
        )
    await h.deliver("invoice.payment_failed", "in_std")
    await h.run_jobs()
    case = await h.case("in_std")
    assert case is not None and case.status == CaseStatus.PAUSED
    assert h.drafter.requests == [] and h.notifier.calls == []
    async with h.db.transaction() as session:
        assert await resume_customer(session, customer_id="cus_std", by=slack_actor("UFIN")) == 1
    await h.run_jobs()
    case = await h.case("in_std")
    assert case is not None and case.status == CaseStatus.OPEN
    assert len(await h.drafts(case.id)) == 1
    async with h.db.sessions() as session:
        actions = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
    assert ["customer_paused", "case_opened", "failure_held_paused", "customer_resumed"] == [
        a
        for a in actions
        if a in {"customer_paused", "case_opened", "failure_held_paused", "customer_resumed"}
    ]


async def test_pause_expiry_resumes_by_itself(h: Harness) -> None:
    standard_invoice(h)
    until = utcnow() + timedelta(days=1)
    async with h.db.transaction() as session:
        await pause_customer(
            session, customer_id="cus_std", until=until, reason=None, by=slack_actor("UFIN")
        )
    await h.deliver("invoice.payment_failed", "in_std")
    await h.run_jobs()
    paused = await h.case("in_std")
    assert paused is not None and paused.status == CaseStatus.PAUSED
    [expiry] = await h.jobs("pause_expired")
    assert expiry.run_at == until
    # Time passes: the pause ends and the expiry job runs.
    async with h.db.transaction() as session:
        from storage.models import Pause

        await session.execute(update(Pause).values(until=utcnow() - timedelta(seconds=1)))
        pause = await session.get(Pause, "cus_std")
        assert pause is not None and pause.until is not None
        new_until = pause.until
        await session.execute(
            update(Job)
            .where(Job.id == expiry.id)
            .values(
                run_at=utcnow(), payload={"customer_id": "cus_std", "until": new_until.isoformat()}
            )
        )
    await h.run_jobs()
    case = await h.case("in_std")
    assert case is not None and case.status == CaseStatus.OPEN
    assert len(await h.drafts(case.id)) == 1


async def test_stripe_429_is_waited_out_in_process_and_the_job_succeeds(h: Harness) -> None:
    standard_invoice(h)
    await h.deliver("invoice.payment_failed", "in_std")
    h.stripe.fail_next(2, status=429, path_prefix="/v1/invoices/in_std", retry_after=0)
    await h.run_jobs()
    [process] = await h.jobs("process_stripe_event")
    assert process.status == JobStatus.SUCCEEDED and process.attempts == 1
    case = await h.case("in_std")
    assert case is not None and len(await h.drafts(case.id)) == 1


async def test_lasting_stripe_429_retries_the_job_with_nothing_half_done(h: Harness) -> None:
    standard_invoice(h)
    await h.deliver("invoice.payment_failed", "in_std")
    h.stripe.fail_next(
        RATE_LIMIT_ATTEMPTS, status=429, path_prefix="/v1/invoices/in_std", retry_after=0
    )
    job = await h.worker.run_until_idle(max_jobs=1)
    assert job == 1
    assert await h.case("in_std") is None  # reads come first; nothing was written
    [process] = await h.jobs("process_stripe_event")
    assert process.status == JobStatus.QUEUED and "BillingError" in (process.last_error or "")
    await h.run_jobs()
    case = await h.case("in_std")
    assert case is not None and len(await h.drafts(case.id)) == 1


async def test_customer_deleted_closes_its_cases(h: Harness) -> None:
    standard_invoice(h)
    await h.deliver("invoice.payment_failed", "in_std")
    await h.run_jobs()
    from tests.fakes.stripe_events import build_event, store_events

    event = build_event(
        "customer.deleted", {"id": "cus_std", "object": "customer", "deleted": True}
    )
    await store_events(h.db, event)
    await h.run_jobs()
    case = await h.case("in_std")
    assert case is not None and case.status == CaseStatus.CLOSED


async def test_double_approve_by_two_people_sends_one_email(h: Harness) -> None:
    standard_invoice(h)
    await h.deliver("invoice.payment_failed", "in_std")
    await h.run_jobs()
    case = await h.case("in_std")
    assert case is not None
    [draft] = await h.drafts(case.id)
    async with h.db.transaction() as session:
        first = await decisions.approve_draft(
            session, draft_id=draft.id, version=draft.version, actor=slack_actor("UANA")
        )
    async with h.db.transaction() as session:
        second = await decisions.approve_draft(
            session, draft_id=draft.id, version=draft.version, actor=slack_actor("UBOB")
        )
    assert first.ok and not second.ok and "<@UANA>" in second.message
    await h.run_jobs()
    assert len(h.mailer.sent) == 1
    async with h.db.sessions() as session:
        assert len((await session.scalars(select(OutboxEmail))).all()) == 1
        stored = await session.get(Case, case.id)
        assert stored is not None and stored.emails_sent == 1


async def test_pause_after_a_draft_was_planned_holds_it_until_resume(h: Harness) -> None:
    standard_invoice(h)
    await h.deliver("invoice.payment_failed", "in_std")
    [process] = await h.jobs("process_stripe_event")
    await h.engine.events.process(process.payload["event_id"])  # plans the draft job only
    async with h.db.transaction() as session:
        await session.execute(
            update(Job).where(Job.id == process.id).values(status=JobStatus.SUCCEEDED)
        )
        await pause_customer(
            session, customer_id="cus_std", until=None, reason=None, by=slack_actor("UFIN")
        )
    await h.run_jobs()
    case = await h.case("in_std")
    assert case is not None and await h.drafts(case.id) == [] and h.drafter.requests == []
    [draft_job] = await h.jobs("draft_email")
    assert draft_job.status == JobStatus.QUEUED and draft_job.attempts == 0
    assert draft_job.last_error == "customer paused"
    async with h.db.transaction() as session:
        await resume_customer(session, customer_id="cus_std", by=slack_actor("UFIN"))
    await h.run_jobs()
    assert len(await h.drafts(case.id)) == 1


async def test_customer_updated_refreshes_what_we_know(h: Harness) -> None:
    from storage.models import CustomerRow
    from tests.fakes.stripe_events import build_event, store_events

    customer = h.stripe.add_customer(
        id="cus_upd",
        email="new@example.com",
        name="Renamed Ltd",
        preferred_locales=["de-DE"],
        metadata={"dunbot_tier": "vip"},
    )
    await store_events(h.db, build_event("customer.updated", customer))
    await h.run_jobs()
    async with h.db.sessions() as session:
        row = await session.get(CustomerRow, "cus_upd")
    assert row is not None
    assert (row.name, row.email, row.locale, row.tier_override) == (
        "Renamed Ltd",
        "new@example.com",
        "de-DE",
        "vip",
    )


async def test_a_decision_records_its_actor_in_the_audit_log_as_kind_and_id(h: Harness) -> None:
    standard_invoice(h)
    await h.deliver("invoice.payment_failed", "in_std")
    await h.run_jobs()
    case = await h.case("in_std")
    assert case is not None
    assert (await approve_latest(h, case.id, user="UANA")).ok
    async with h.db.sessions() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "draft_approved")
        )
    assert entry is not None and entry.actor == "slack:UANA"
    [draft] = await h.drafts(case.id)
    assert draft.decided_by == "UANA"
