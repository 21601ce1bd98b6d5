"""Draft job: ask the Drafter for an email for one round of a case, then ask for approval."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from recovery import audit
from recovery.attempts import attempt_stage, will_stripe_retry
from recovery.config import RecoveryConfig
from recovery.domain import (
    AttemptStage,
    DeclineCategory,
    DraftRequest,
    DraftResult,
    InvoiceSnapshot,
)
from recovery.drafting.provider import ProviderDeferred
from recovery.notify import NotifyCall, enqueue_notify
from recovery.pauses import active_pause
from recovery.protocols import Drafter
from storage.db import Database
from storage.models import OPEN_CASE_STATUSES, Case, Draft, DraftStatus, utcnow
from storage.queue import RetryLater


def invoice_of_case(case: Case) -> InvoiceSnapshot:
    """The invoice as last read from Stripe, rebuilt from the case."""
    return InvoiceSnapshot(
        id=case.invoice_id,
        number=case.invoice_number,
        customer_id=case.customer_id,
        customer_email=case.customer_email,
        customer_name=case.customer_name,
        status="open",
        currency=case.currency,
        amount_due=case.amount_due,
        amount_remaining=case.amount_remaining,
        attempt_count=case.attempt_count,
        next_payment_attempt=case.next_payment_attempt,
        due_date=case.due_date,
        hosted_invoice_url=case.hosted_invoice_url,
    )


def draft_request_for(
    case: Case,
    config: RecoveryConfig,
    *,
    instruction: str | None = None,
    previous_body: str | None = None,
    stage: AttemptStage | None = None,
    will_retry: bool | None = None,
) -> DraftRequest:
    """What the Drafter may know: facts from Stripe, and customer fields as untrusted data.
    A dunning plan's email passes its own stage and whether dunbot will retry."""
    invoice = invoice_of_case(case)
    return DraftRequest(
        invoice_id=case.invoice_id,
        invoice_number=case.invoice_number,
        customer_name=case.customer_name,
        customer_email=case.customer_email,
        company_name=config.company_name,
        locale=(case.locale or "en"),
        decline_category=DeclineCategory(case.decline_category or DeclineCategory.UNKNOWN),
        stage=stage or attempt_stage(invoice),
        attempt_number=max(case.attempt_count, 1),
        will_retry=will_stripe_retry(invoice) if will_retry is None else will_retry,
        amount_due=case.amount_remaining or case.amount_due,
        currency=case.currency,
        due_date=case.due_date,
        instruction=instruction,
        previous_body=previous_body,
    )


class ProposalService:
    """Creates drafts and hands them to people for approval."""

    def __init__(self, *, db: Database, drafter: Drafter, config: RecoveryConfig) -> None:
        self.db = db
        self.drafter = drafter
        self.config = config

    async def draft_for_case(
        self,
        case_id: int,
        *,
        round_no: int,
        instruction: str | None = None,
        previous_body: str | None = None,
        actor: str = "system:drafter",
        stage: AttemptStage | None = None,
        will_retry: bool | None = None,
    ) -> str:
        """Job body. The LLM call happens outside any transaction; the result is stored after
        re-checking that the case still wants it."""
        async with self.db.sessions() as session:
            case = await session.get(Case, case_id)
            if case is None or case.status not in OPEN_CASE_STATUSES:
                return "ignored_case_closed"
            await self._wait_if_paused(session, case)
            request = draft_request_for(
                case,
                self.config,
                instruction=instruction,
                previous_body=previous_body,
                stage=stage,
                will_retry=will_retry,
            )
        try:
            result = await self.drafter.draft(request)
        except ProviderDeferred as deferred:  # waiting beats a template draft: run again later
            raise RetryLater(deferred.delay_s, f"LLM: {deferred.reason}") from None
        async with self.db.transaction() as session:
            case = await session.get(Case, case_id)
            if case is None or case.status not in OPEN_CASE_STATUSES or case.round != round_no:
                return "ignored_stale"
            await self._wait_if_paused(session, case)
            draft = await store_draft(session, case, result, round_no=round_no, actor=actor)
            return f"draft_{draft.id}"

    async def _wait_if_paused(self, session: AsyncSession, case: Case) -> None:
        """A paused customer's drafting waits (the job runs again; resume makes it due now)."""
        pause = await active_pause(session, case.customer_id)
        if pause is None:
            return
        wait = self.config.pause_recheck_s
        if pause.until is not None:
            wait = max(min(wait, (pause.until - utcnow()).total_seconds()), 1.0)
        raise RetryLater(wait, "customer paused")


async def store_draft(
    session: AsyncSession, case: Case, result: DraftResult, *, round_no: int, actor: str
) -> Draft:
    """Supersede any pending draft of the case, store the new one, post its card."""
    superseded = (
        await session.scalars(
            update(Draft)
            .where(Draft.case_id == case.id, Draft.status == DraftStatus.PENDING)
            .values(status=DraftStatus.SUPERSEDED, version=Draft.version + 1)
            .returning(Draft.id)
        )
    ).all()
    for old_id in superseded:
        await enqueue_notify(session, NotifyCall.SYNC_APPROVAL_CARD, draft_id=old_id)
    draft = Draft(
        case_id=case.id,
        round=round_no,
        subject=result.subject,
        body=result.body,
        source=result.source,
        provider=result.provider,
        model=result.model,
        prompt_version=result.prompt_version,
        fallback_reason=result.fallback_reason,
        guardrail_notes=list(result.guardrail_notes),
        input_tokens=result.input_tokens,
        output_tokens=result.output_tokens,
        cost_usd=result.cost_usd,
    )
    session.add(draft)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="draft_created",
        case_id=case.id,
        customer_id=case.customer_id,
        draft_id=draft.id,
        source=result.source,
        fallback_reason=result.fallback_reason,
    )
    await enqueue_notify(session, NotifyCall.SYNC_APPROVAL_CARD, draft_id=draft.id)
    return draft


async def latest_draft(session: AsyncSession, case_id: int) -> Draft | None:
    return await session.scalar(
        select(Draft).where(Draft.case_id == case_id).order_by(Draft.id.desc()).limit(1)
    )
