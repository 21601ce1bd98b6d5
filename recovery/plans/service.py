"""Running a case's dunning plan as durable jobs: choose the plan, retry the payment, close out.

Each job re-reads the invoice from Stripe first: paid, void or uncollectible settles the case,
which cancels the plan's remaining jobs (`stop_plan`, called by `close_case`). Each Stripe
write carries an idempotency key per (invoice, retry number) or (invoice, closing step), so a
job repeated after a crash repeats the same request, never a second payment or cancellation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from recovery import audit
from recovery.cases import SETTLED_STATUS_BY_INVOICE_STATUS, CaseEngine, close_case
from recovery.domain import AttemptStage, Segment
from recovery.jobkinds import JobKind, invoice_serial_key, priority_of
from recovery.notify import NotifyCall, enqueue_notify
from recovery.pauses import active_pause
from recovery.plans.assign import (
    PlanChoice,
    ReadFacts,
    choose_plan,
    invoice_facts,
    matching_plan_rules,
)
from recovery.plans.jobs import (
    card_change_key,
    closeout_key,
    queue_card_change_retry,
    queue_card_sync,
    queue_close_step,
    queue_closeout,
    queue_retry,
    retry_key,
)
from recovery.plans.model import CancelWhen, ClosingAction, DunningPlan
from recovery.plans.ports import PlanBilling
from recovery.plans.state import plan_of
from recovery.playbooks.cancellation import CLOSEOUT_METADATA_KEY
from recovery.playbooks.facts import invoice_subscription_id
from recovery.playbooks.ports import StripeObjects
from recovery.playbooks.rules import Playbook, Rule
from recovery.playbooks.store import rule_overrides
from recovery.protocols import BillingReader, NotFoundError, PaymentDeclined
from storage.db import Database, rows_affected
from storage.models import (
    OPEN_CASE_STATUSES,
    Case,
    CasePlan,
    CasePlanStatus,
    CaseStatus,
    CustomerProfile,
    Draft,
    DraftStatus,
    Job,
    utcnow,
)
from storage.queue import PermanentJobError, RetryLater, enqueue, run_now

log = logging.getLogger("dunbot.plans")

Status = CasePlanStatus
POSTPONE = timedelta(days=7)
PAUSED_RECHECK_S = 3600.0
# Past the plan's last retry, before closing: a card change makes one extra retry.
AFTER_LAST_RETRY = (Status.GRACE, Status.AWAITING_APPROVAL, Status.POSTPONED)


@dataclass(frozen=True, slots=True)
class CloseoutDecision:
    """The outcome of an Approve / Postpone / Reject click on a close-out card."""

    outcome: str  # "approved" | "postponed" | "rejected" | "already" | "missing"
    status: str = ""
    by: str | None = None
    until: datetime | None = None


class PlanService:
    """Starts, advances and closes out the dunning plans of cases."""

    def __init__(
        self,
        *,
        db: Database,
        playbook: Playbook,
        reader: BillingReader,
        billing: PlanBilling | None,
        cases: CaseEngine,
        objects: StripeObjects | None = None,
        read_facts: ReadFacts | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.playbook = playbook
        self.reader = reader
        self.billing = billing
        self.cases = cases
        self.objects = objects if objects is not None else billing
        self.read_facts = read_facts
        self.clock = clock

    # ---- choosing the plan ---------------------------------------------------------------

    async def start(self, case_id: int) -> str:
        """Job body (once per case): choose the plan; a retrying plan queues its first retry."""
        async with self.db.sessions() as session:
            case = await session.get(Case, case_id)
            if case is None or case.status not in OPEN_CASE_STATUSES:
                return "ignored_case_closed"
            if await plan_of(session, case_id) is not None:
                return "already_started"
            profile = await session.get(CustomerProfile, case.customer_id)
            overrides = await rule_overrides(session)
            invoice_id, customer_plan = case.invoice_id, profile.dunning_plan if profile else None
            customer_rule = profile.plan_rule if profile else None

        def enabled(rule: Rule) -> bool:
            return overrides.get(rule.name, rule.enabled)

        rules = [r for r in self.playbook.plan_rules if enabled(r)]
        own = self.playbook.plan(customer_plan) if customer_plan else None
        # Stripe is read only when a rule looks at the invoice or a plan will need its
        # subscription: otherwise the default plan costs no request.
        needed = bool(rules) or (own is not None and own.manages_payments)
        invoice = await self._raw_invoice(invoice_id) if needed else {"id": invoice_id}
        facts = invoice_facts(invoice)
        if rules and self.read_facts is not None:
            await self.read_facts(facts, rules)
        choice = choose_plan(
            self.playbook,
            matched=matching_plan_rules(self.playbook, facts, enabled=enabled),
            customer_plan=customer_plan,
            customer_plan_rule=customer_rule,
        )
        async with self.db.transaction() as session:
            return await self._begin(
                session, case_id, choice, subscription_id=invoice_subscription_id(invoice)
            )

    async def _raw_invoice(self, invoice_id: str) -> dict[str, Any]:
        if self.objects is None:
            return {"id": invoice_id}
        try:
            return await self.objects.retrieve_object("invoice", invoice_id)
        except NotFoundError:
            return {"id": invoice_id}

    async def _begin(
        self,
        session: AsyncSession,
        case_id: int,
        choice: PlanChoice,
        *,
        subscription_id: str | None,
    ) -> str:
        case = await session.get(Case, case_id)
        if case is None or case.status not in OPEN_CASE_STATUSES:
            return "ignored_case_closed"
        if await plan_of(session, case_id) is not None:
            return "already_started"
        plan = choice.plan
        await audit.record(
            session,
            actor="system:plans",
            action="plan_assigned",
            case_id=case.id,
            customer_id=case.customer_id,
            plan=plan.name,
            chosen_by=choice.chosen_by,
            overridden=list(choice.overridden),
        )
        if not plan.manages_payments:
            return f"plan_{plan.name}"
        row = CasePlan(
            case_id=case.id,
            invoice_id=case.invoice_id,
            customer_id=case.customer_id,
            plan_name=plan.name,
            assigned_by=choice.chosen_by[:300],
            subscription_id=subscription_id,
            retries_total=plan.retries,
            retries_done=0,
            status=Status.RETRYING,
            closed_steps=[],
        )
        session.add(row)
        await session.flush()
        anchor = case.created_at or self.clock()
        await queue_retry(
            session,
            plan_id=row.id,
            invoice_id=case.invoice_id,
            retry=1,
            run_at=max(anchor + plan.gap_before(1), self.clock()),
        )
        await enqueue_notify(session, NotifyCall.SYNC_CASE_CARDS, case_id=case.id)
        return f"plan_{plan.name}"

    # ---- retries -------------------------------------------------------------------------

    async def retry(self, plan_id: int, *, retry: int, job_id: int | None = None) -> str:
        """Job body: retry number `retry` — re-read, pay with its own key, record the outcome."""
        async with self.db.sessions() as session:
            row = await session.get(CasePlan, plan_id)
            if row is None or row.status != Status.RETRYING or row.retries_done >= retry:
                return "ignored_stale"
            case = await session.get(Case, row.case_id)
            if case is None or case.status not in OPEN_CASE_STATUSES:
                return "ignored_case_closed"
            if await active_pause(session, case.customer_id) is not None:
                raise RetryLater(PAUSED_RECHECK_S, "the customer's dunning is paused")
            due = (
                await session.scalar(select(Job.run_at).where(Job.id == job_id)) if job_id else None
            )
            invoice_id = row.invoice_id
        plan = self._plan(row.plan_name)
        invoice = await self.reader.get_invoice(invoice_id)
        if not invoice.is_collectible:
            return await self._settled(invoice_id, invoice.status, invoice=invoice)
        if self.billing is None:
            raise PermanentJobError(
                "dunbot cannot pay invoices with this configuration (a read-only Stripe key, "
                "or no Stripe): set STRIPE_READ_ONLY=false with a key that may write invoices"
            )
        try:
            await self.billing.pay_invoice(invoice_id, idempotency_key=retry_key(invoice_id, retry))
        except PaymentDeclined as declined:
            return await self._declined(
                plan_id, plan, retry=retry, code=declined.decline_code, due=due
            )
        paid = await self.reader.get_invoice(invoice_id)
        async with self.db.transaction() as session:
            await session.execute(
                update(CasePlan)
                .where(CasePlan.id == plan_id)
                .values(retries_done=retry, last_retry_at=self.clock())
            )
            await audit.record(
                session,
                actor="system:plans",
                action="plan_retry_paid",
                case_id=row.case_id,
                customer_id=row.customer_id,
                retry=retry,
            )
        status = SETTLED_STATUS_BY_INVOICE_STATUS.get(paid.status, CaseStatus.PAID)
        await self.cases.settle(invoice_id, status, actor=f"plan:{plan.name}", invoice=paid)
        return f"paid_at_retry_{retry}"

    async def _settled(self, invoice_id: str, status: str, *, invoice: Any) -> str:
        settled = SETTLED_STATUS_BY_INVOICE_STATUS.get(status)
        if settled is None:
            return f"ignored_invoice_{status}"
        await self.cases.settle(invoice_id, settled, actor="system:plans", invoice=invoice)
        return f"stopped_invoice_{status}"

    async def _declined(
        self,
        plan_id: int,
        plan: DunningPlan,
        *,
        retry: int,
        code: str | None,
        due: datetime | None,
    ) -> str:
        now = self.clock()
        async with self.db.transaction() as session:
            row = await session.get(CasePlan, plan_id)
            if row is None or row.status != Status.RETRYING or row.retries_done >= retry:
                return "ignored_stale"
            case = await session.get(Case, row.case_id)
            if case is None or case.status not in OPEN_CASE_STATUSES:
                return "ignored_case_closed"
            row.retries_done = retry
            row.last_retry_at = now
            row.last_decline_code = (code or "")[:80] or None
            await audit.record(
                session,
                actor="system:plans",
                action="plan_retry_declined",
                case_id=case.id,
                customer_id=case.customer_id,
                retry=retry,
                of=row.retries_total,
                decline_code=row.last_decline_code,
            )
            if retry < plan.retries:
                # From when this retry was due, so moving the invoice's jobs moves the rest.
                base = due if due is not None and due <= now else now
                await queue_retry(
                    session,
                    plan_id=row.id,
                    invoice_id=row.invoice_id,
                    retry=retry + 1,
                    run_at=max(base + plan.gap_before(retry + 1), now),
                )
            else:
                row.status = Status.GRACE
                row.closeout_at = now + plan.grace
                await queue_closeout(
                    session,
                    plan_id=row.id,
                    invoice_id=row.invoice_id,
                    round_no=1,
                    run_at=row.closeout_at,
                )
            email = plan.email_after(retry)
            if email is not None:
                await plan_email_round(
                    session, case, stage=email.stage, will_retry=retry < plan.retries
                )
            await enqueue_notify(session, NotifyCall.SYNC_CASE_CARDS, case_id=case.id)
        return f"declined_retry_{retry}"

    async def card_updated(self, customer_id: str, *, cause: str) -> int:
        """Job body: the customer changed their payment method — each running plan of theirs
        retries now (the pending retry keeps its number and key; the queue serialises it); a
        plan past its last retry (grace, close-out card waiting) makes one extra retry."""
        async with self.db.transaction() as session:
            rows = (
                await session.scalars(
                    select(CasePlan).where(
                        CasePlan.customer_id == customer_id,
                        CasePlan.status.in_([Status.RETRYING, *AFTER_LAST_RETRY]),
                    )
                )
            ).all()
            moved = 0
            for row in rows:
                if row.status != Status.RETRYING:
                    queued = await queue_card_change_retry(
                        session, plan_id=row.id, invoice_id=row.invoice_id
                    )
                    if queued is not None:
                        moved += 1
                        await self._audit(
                            session, row, "plan_card_change_retry", actor=f"stripe:{cause}"
                        )
                    continue
                count = await run_now(
                    session,
                    serial_key=invoice_serial_key(row.invoice_id),
                    kinds=[JobKind.PLAN_RETRY],
                )
                moved += count
                if count:
                    await audit.record(
                        session,
                        actor=f"stripe:{cause}",
                        action="plan_retry_now",
                        case_id=row.case_id,
                        customer_id=customer_id,
                        retry=row.retries_done + 1,
                    )
            return moved

    async def card_change_retry(self, plan_id: int, *, number: int) -> str:
        """Job body: the extra retry after a card change past the plan's last retry — paid
        settles the case (the close-out card says so); declined leaves the close-out as it was."""
        async with self.db.sessions() as session:
            row = await session.get(CasePlan, plan_id)
            if row is None or row.status not in AFTER_LAST_RETRY:
                return "ignored_stale"
            case = await session.get(Case, row.case_id)
            if case is None or case.status not in OPEN_CASE_STATUSES:
                return "ignored_case_closed"
            if await active_pause(session, case.customer_id) is not None:
                return "ignored_paused"
            invoice_id, plan_name = row.invoice_id, row.plan_name
        invoice = await self.reader.get_invoice(invoice_id)
        if not invoice.is_collectible:
            return await self._settled(invoice_id, invoice.status, invoice=invoice)
        if self.billing is None:
            raise PermanentJobError(
                "dunbot cannot pay invoices with this configuration (a read-only Stripe key, "
                "or no Stripe): set STRIPE_READ_ONLY=false with a key that may write invoices"
            )
        key = card_change_key(invoice_id, number)
        try:
            await self.billing.pay_invoice(invoice_id, idempotency_key=key)
        except PaymentDeclined as declined:
            async with self.db.transaction() as session:
                row = await session.get(CasePlan, plan_id)
                if row is None:
                    return "ignored_stale"
                row.last_retry_at = self.clock()
                row.last_decline_code = (declined.decline_code or "")[:80] or None
                await self._audit(
                    session,
                    row,
                    "plan_card_change_retry_declined",
                    number=number,
                    decline_code=row.last_decline_code,
                )
            return f"declined_card_change_retry_{number}"
        paid = await self.reader.get_invoice(invoice_id)
        async with self.db.transaction() as session:
            row = await session.get(CasePlan, plan_id)
            if row is not None:
                row.last_retry_at = self.clock()
                await self._audit(session, row, "plan_card_change_retry_paid", number=number)
        status = SETTLED_STATUS_BY_INVOICE_STATUS.get(paid.status, CaseStatus.PAID)
        await self.cases.settle(invoice_id, status, actor=f"plan:{plan_name}", invoice=paid)
        return f"paid_at_card_change_retry_{number}"

    # ---- close-out -----------------------------------------------------------------------

    async def closeout(self, plan_id: int, *, round_no: int) -> str:
        """Job body: the grace (or a postponement) is over — ask for approval, or close out."""
        async with self.db.sessions() as session:
            row = await session.get(CasePlan, plan_id)
            if row is None or row.status not in (Status.GRACE, Status.POSTPONED):
                return "ignored_stale"
            if row.closeout_round >= round_no:
                return "ignored_stale"
            invoice_id = row.invoice_id
        invoice = await self.reader.get_invoice(invoice_id)
        if not invoice.is_collectible:
            return await self._settled(invoice_id, invoice.status, invoice=invoice)
        plan = self.playbook.plan(row.plan_name)
        async with self.db.transaction() as session:
            row = await session.get(CasePlan, plan_id)
            if row is None or row.status not in (Status.GRACE, Status.POSTPONED):
                return "ignored_stale"
            row.closeout_round = round_no
            row.version += 1
            if plan is None or not plan.closing:
                row.status = Status.LEFT_OPEN
                row.result = (
                    f'the plan "{row.plan_name}" is no longer in the rules file'
                    if plan is None
                    else "the plan leaves the invoice open"
                )
                await self._audit(session, row, "plan_left_open", note=row.result)
                await enqueue_notify(session, NotifyCall.SYNC_CASE_CARDS, case_id=row.case_id)
                return "left_open"
            if plan.closeout_approval:
                row.status = Status.AWAITING_APPROVAL
                await self._audit(session, row, "plan_closeout_requested", round=round_no)
                await queue_card_sync(session, plan_id=row.id)
                await enqueue_notify(session, NotifyCall.SYNC_CASE_CARDS, case_id=row.case_id)
                return "awaiting_approval"
            row.status = Status.CLOSING
            row.decided_by = None
            await self._audit(session, row, "plan_closeout_started", approval=False)
            await queue_close_step(
                session,
                plan_id=row.id,
                invoice_id=row.invoice_id,
                steps=[a.value for a in plan.closing],
                index=0,
            )
            return "closing"

    async def decide(
        self, session: AsyncSession, plan_id: int, *, choice: str, user: str
    ) -> CloseoutDecision:
        """A finance approver's click, in the caller's transaction: the first click wins
        (compare-and-set on the row's version), later ones learn who decided."""
        row = await session.get(CasePlan, plan_id)
        if row is None:
            return CloseoutDecision(outcome="missing")
        if row.status != Status.AWAITING_APPROVAL:
            return CloseoutDecision(outcome="already", status=row.status, by=row.decided_by)
        plan = self.playbook.plan(row.plan_name)
        now = self.clock()
        values: dict[str, Any] = {
            "decided_by": user,
            "decided_at": now,
            "version": CasePlan.version + 1,
        }
        if choice == "approve":
            values["status"] = Status.CLOSING
        elif choice == "postpone":
            values["status"] = Status.POSTPONED
            values["closeout_at"] = now + POSTPONE
        else:
            values["status"] = Status.REJECTED
            values["result"] = f"rejected by {user}: the subscription is kept, the invoice open"
        result = await session.execute(
            update(CasePlan)
            .where(
                CasePlan.id == plan_id,
                CasePlan.status == Status.AWAITING_APPROVAL,
                CasePlan.version == row.version,
            )
            .values(**values)
        )
        if rows_affected(result) != 1:
            await session.refresh(row)
            return CloseoutDecision(outcome="already", status=row.status, by=row.decided_by)
        await session.refresh(row)
        await self._audit(session, row, f"plan_closeout_{choice}", actor=f"slack:{user}")
        if choice == "approve":
            steps = [a.value for a in plan.closing] if plan is not None else []
            if steps:
                await queue_close_step(
                    session, plan_id=row.id, invoice_id=row.invoice_id, steps=steps, index=0
                )
        elif choice == "postpone":
            assert row.closeout_at is not None
            await queue_closeout(
                session,
                plan_id=row.id,
                invoice_id=row.invoice_id,
                round_no=row.closeout_round + 1,
                run_at=row.closeout_at,
            )
        await queue_card_sync(session, plan_id=row.id)
        await enqueue_notify(session, NotifyCall.SYNC_CASE_CARDS, case_id=row.case_id)
        outcome = {"approve": "approved", "postpone": "postponed"}.get(choice, "rejected")
        return CloseoutDecision(outcome=outcome, status=row.status, by=user, until=row.closeout_at)

    async def close_step(self, plan_id: int, *, steps: list[str], index: int) -> str:
        """Job body: one closing write; re-reads first, so a crash repeats nothing twice."""
        step = ClosingAction(steps[index])
        async with self.db.sessions() as session:
            row = await session.get(CasePlan, plan_id)
            if row is None or row.status != Status.CLOSING:
                return "ignored_stale"
            done = list(row.closed_steps or [])
            invoice_id, subscription_id = row.invoice_id, row.subscription_id
        plan = self.playbook.plan(row.plan_name)
        if step.value not in done:
            if self.billing is None:
                raise PermanentJobError(
                    "dunbot cannot write to Stripe with this configuration (STRIPE_READ_ONLY)"
                )
            invoice = await self.reader.get_invoice(invoice_id)
            if invoice.status == "paid" or (
                invoice.status == "void" and step is not ClosingAction.VOID
            ):
                await self._stop_closing(plan_id, f"the invoice was {invoice.status} first")
                return await self._settled(invoice_id, invoice.status, invoice=invoice)
            note = await self._write(
                step,
                invoice_id=invoice_id,
                invoice_status=invoice.status,
                subscription_id=subscription_id,
                at_period_end=plan is not None and plan.cancel is CancelWhen.PERIOD_END,
            )
            async with self.db.transaction() as session:
                row = await session.get(CasePlan, plan_id)
                if row is None:
                    return "ignored_stale"
                row.closed_steps = [*(row.closed_steps or []), step.value]
                await self._audit(session, row, "plan_closeout_step", step=step.value, note=note)
        if index + 1 < len(steps):
            async with self.db.transaction() as session:
                await queue_close_step(
                    session, plan_id=plan_id, invoice_id=invoice_id, steps=steps, index=index + 1
                )
            return f"closed_{step.value}"
        return await self._finish_closing(plan_id, steps)

    async def _write(
        self,
        step: ClosingAction,
        *,
        invoice_id: str,
        invoice_status: str,
        subscription_id: str | None,
        at_period_end: bool,
    ) -> str:
        """One Stripe write with its idempotency key; what it did, in words."""
        assert self.billing is not None
        key = closeout_key(invoice_id, step.value)
        if step is ClosingAction.CANCEL_SUBSCRIPTION:
            if subscription_id is None:
                return "no subscription on the invoice"
            try:
                subscription = await self.billing.retrieve_object("subscription", subscription_id)
            except NotFoundError:
                return f"subscription {subscription_id} not found"
            if subscription.get("status") == "canceled":
                return f"subscription {subscription_id} was already cancelled"
            mark = getattr(self.billing, "update_subscription_metadata", None)
            if mark is not None:  # the cancellation email then says non-payment (or is skipped)
                await mark(
                    subscription_id, {CLOSEOUT_METADATA_KEY: "true"}, idempotency_key=f"{key}-mark"
                )
            await self.billing.cancel_subscription(
                subscription_id, at_period_end=at_period_end, idempotency_key=key
            )
            return f"cancelled subscription {subscription_id}" + (
                " at the end of its period" if at_period_end else ""
            )
        if invoice_status != "open":
            return f"the invoice was already {invoice_status}"
        if step is ClosingAction.MARK_UNCOLLECTIBLE:
            await self.billing.mark_invoice_uncollectible(invoice_id, idempotency_key=key)
            return f"marked invoice {invoice_id} uncollectible"
        void = getattr(self.billing, "void_invoice", None)
        if void is None:
            raise PermanentJobError("this billing adapter cannot void invoices")
        await void(invoice_id, idempotency_key=key)
        return f"voided invoice {invoice_id}"

    async def _finish_closing(self, plan_id: int, steps: list[str]) -> str:
        """The last write is done: the plan is closed out and the case settled, in one commit."""
        settled = (
            CaseStatus.VOIDED
            if ClosingAction.VOID.value in steps
            else CaseStatus.UNCOLLECTIBLE
            if ClosingAction.MARK_UNCOLLECTIBLE.value in steps
            else None
        )
        async with self.db.transaction() as session:
            row = await session.get(CasePlan, plan_id)
            if row is None or row.status != Status.CLOSING:
                return "ignored_stale"
            row.status = Status.CLOSED
            row.version += 1
            row.result = _closed_result(row, steps)
            await self._audit(session, row, "plan_closed_out", steps=steps)
            await queue_card_sync(session, plan_id=row.id)
            case = await session.get(Case, row.case_id)
            if settled is not None and case is not None and case.status in OPEN_CASE_STATUSES:
                await close_case(session, case, settled, actor=f"plan:{row.plan_name}")
        return "closed_out"

    async def _stop_closing(self, plan_id: int, why: str) -> None:
        async with self.db.transaction() as session:
            row = await session.get(CasePlan, plan_id)
            if row is not None and row.status == Status.CLOSING:
                row.status = Status.STOPPED
                row.version += 1
                row.result = why
                await self._audit(session, row, "plan_closeout_stopped", note=why)
                await queue_card_sync(session, plan_id=row.id)

    # ---- helpers -------------------------------------------------------------------------

    def _plan(self, name: str) -> DunningPlan:
        plan = self.playbook.plan(name)
        if plan is None or not plan.manages_payments:
            raise PermanentJobError(
                f'the dunning plan "{name}" is no longer in the rules file (or no longer '
                "retries); its retries stop here"
            )
        return plan

    async def _audit(
        self,
        session: AsyncSession,
        row: CasePlan,
        action: str,
        *,
        actor: str = "system:plans",
        **detail: Any,
    ) -> None:
        await audit.record(
            session,
            actor=actor,
            action=action,
            case_id=row.case_id,
            customer_id=row.customer_id,
            plan=row.plan_name,
            **detail,
        )


def _closed_result(row: CasePlan, steps: list[str]) -> str:
    words = {
        ClosingAction.CANCEL_SUBSCRIPTION.value: f"subscription {row.subscription_id} cancelled"
        if row.subscription_id
        else "no subscription to cancel",
        ClosingAction.MARK_UNCOLLECTIBLE.value: f"invoice {row.invoice_id} marked uncollectible",
        ClosingAction.VOID.value: f"invoice {row.invoice_id} voided",
    }
    return "; ".join(words[s] for s in steps if s in words)


async def plan_email_round(
    session: AsyncSession, case: Case, *, stage: AttemptStage, will_retry: bool
) -> str:
    """The plan's email after a retry: a new round drafted in the plan's stage (VIP cases have
    a person on them instead; a draft still waiting for approval is not stacked upon)."""
    if case.segment == Segment.VIP:
        return "vip_no_email"
    pending = await session.scalar(
        select(Draft.id).where(Draft.case_id == case.id, Draft.status == DraftStatus.PENDING)
    )
    if pending is not None:
        return "draft_already_pending"
    case.round += 1
    await enqueue(
        session,
        kind=JobKind.DRAFT_EMAIL,
        payload={
            "case_id": case.id,
            "round": case.round,
            "stage": stage.value,
            "will_retry": will_retry,
        },
        dedupe_key=f"draft:{case.id}:{case.round}",
        serial_key=invoice_serial_key(case.invoice_id),
        priority=priority_of(JobKind.DRAFT_EMAIL),
    )
    await audit.record(
        session,
        actor="system:plans",
        action="email_round_planned",
        case_id=case.id,
        customer_id=case.customer_id,
        round=case.round,
        stage=stage.value,
    )
    return "draft_planned"
