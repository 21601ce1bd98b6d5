"""Human edits pass the same guardrails as drafts; our own company name is not a link."""

from __future__ import annotations

from bot.slack.actors import slack_actor
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
            actor=slack_actor("UFIN"),
            subject="Payment",
            body=body,
        )
    assert not refused.ok and refused.errors
    async with h.db.transaction() as session:
        saved = await decisions.edit_draft(
            session,
            draft_id=draft.id,
            version=draft.version,
            actor=slack_actor("UFIN"),
            subject="Payment",
            body=body,
            allowed_terms=("Acme.io",),
        )
    assert saved.ok
    [draft] = await h.drafts(case.id)
    assert draft.body == body and draft.edited_by == "UFIN"


async def test_edit_with_a_nul_character_is_refused_and_nothing_is_saved(h: Harness) -> None:
    standard_invoice(h)
    await h.deliver("invoice.payment_failed", "in_std")
    await h.run_jobs()
    case = await h.case("in_std")
    assert case is not None
    [draft] = await h.drafts(case.id)
    body = "Your payment did not go\x00 through. Please update your card on the page below."
    async with h.db.transaction() as session:
        refused = await decisions.edit_draft(
            session, draft_id=draft.id, version=draft.version, actor=slack_actor("UFIN"),
            subject="Payment", body=body,
        )  # fmt: skip
    assert not refused.ok
    assert "NUL character" in refused.message and "not saved" in refused.message
    [unchanged] = await h.drafts(case.id)
    assert unchanged.body == draft.body and unchanged.version == draft.version
