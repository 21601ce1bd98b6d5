"""Human edits pass the same guardrails as drafts; our own company name is not a link."""

from __future__ import annotations

from recovery import decisions
from tests.recovery.conftest import Harness
from tests.recovery.test_case_flow import standard_invoice


async def test_edit_mentioning_our_domain_like_company_name(h: Harness) -> None:
    standard_invoice(h)
    await h.deliver("invoice.payment_failed", "in_std")
    await h.run_jobs()
    case = await h.case("in_std")
    assert case is not None
    [draft] = await h.drafts(case.id)
    body = "Your payment to Acme.io did not go through. Please update your card."
    async with h.db.transaction() as session:
        refused = await decisions.edit_draft(
            session,
            draft_id=draft.id,
            version=draft.version,
            user="UFIN",
            subject="Payment",
            body=body,
        )
    assert not refused.ok and refused.errors
    async with h.db.transaction() as session:
        saved = await decisions.edit_draft(
            session,
            draft_id=draft.id,
            version=draft.version,
            user="UFIN",
            subject="Payment",
            body=body,
            allowed_terms=("Acme.io",),
        )
    assert saved.ok
    [draft] = await h.drafts(case.id)
    assert draft.body == body and draft.edited_by == "UFIN"
