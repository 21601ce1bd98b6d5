"""Dry run: the draft and rendered email dunbot would propose for an invoice, sending nothing."""

from __future__ import annotations

from dataclasses import dataclass

from recovery.cases import FailureFacts, refresh_case
from recovery.config import RecoveryConfig
from recovery.delivery import render_case_email
from recovery.domain import DraftResult, OutgoingEmail, SegmentDecision
from recovery.proposals import draft_request_for
from recovery.protocols import Billing, Drafter
from recovery.segmentation import decide_segment
from storage.models import Case


@dataclass(frozen=True)
class Preview:
    decision: SegmentDecision
    draft: DraftResult
    email: OutgoingEmail | None
    note: str | None


async def preview_draft(
    *, billing: Billing, drafter: Drafter, config: RecoveryConfig, invoice_id: str
) -> Preview:
    """Read the invoice like a failure would, draft, render; write nothing anywhere."""
    invoice = await billing.get_invoice(invoice_id)
    customer = invoice.customer or await billing.get_customer(invoice.customer_id)
    ltv = await billing.lifetime_value(invoice.customer_id)
    decline = invoice.decline or await billing.decline_info(invoice)
    facts = FailureFacts(
        invoice=invoice, customer=customer, ltv_by_currency=ltv, ltv_is_fresh=True, decline=decline
    )
    decision = decide_segment(
        ltv_by_currency=ltv, invoice=invoice, customer=customer, thresholds=config.vip_thresholds
    )
    case = Case(
        invoice_id=invoice.id,
        customer_id=invoice.customer_id,
        currency=invoice.currency,
        amount_due=invoice.amount_due,
        amount_remaining=invoice.amount_remaining,
        attempt_count=0,
    )
    refresh_case(case, facts, decision)
    draft = await drafter.draft(draft_request_for(case, config))
    note = None
    if not invoice.is_collectible:
        note = f"invoice is {invoice.status}: dunbot would not act on it"
    elif decision.segment == "vip":
        note = "VIP customer: dunbot would open a task for an account manager, not send this"
    to_addr = case.customer_email
    email = None
    if to_addr:
        email = render_case_email(
            case,
            subject=draft.subject,
            body=draft.body,
            invoice=invoice,
            config=config,
            to_addr=to_addr,
            message_id=f"<preview-{invoice.id}@dunbot>",
            pay_url=invoice.hosted_invoice_url,  # a dry run has no case to sign a link for
        )
    return Preview(decision=decision, draft=draft, email=email, note=note)
