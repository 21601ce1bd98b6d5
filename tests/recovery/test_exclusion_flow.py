"""Excluded customers get no drafts; include makes the held failures go ahead."""

from __future__ import annotations

from sqlalchemy import select

from bot.adapters.stripe_billing import StripeBilling
from bot.slack.actors import slack_actor
from recovery.customers.facts import RatingConfig
from recovery.customers.rules import CustomerRules, CustomerRulesConfig
from recovery.customers.service import CustomerFactsService
from recovery.pauses import include_customer
from recovery.playbooks.loader import load_playbook_text
from storage.models import AuditEntry, CaseStatus, CustomerProfile
from tests.fakes.stripe_server import DEFAULT_API_KEY
from tests.recovery.conftest import Harness
from tests.recovery.test_case_flow import standard_invoice

INTERNAL = """
[[rule]]
name = "Internal customers: no dunning"
trigger = "dunbot.customer.created_or_updated"
conditions = ['email_domain in ["example.com", "acme.test"]']
[[rule.action]]
type = "exclude"
reason = "internal customer {email}"
"""


async def test_a_rule_excludes_a_customer_drafting_stops_and_include_resumes(h: Harness) -> None:
    standard_invoice(h)  # ana@example.com: an internal customer for the rule
    billing = StripeBilling.connect(
        api_key=DEFAULT_API_KEY, api_base=h.stripe.base_url, max_network_retries=0
    )
    rules = CustomerRules(playbook=load_playbook_text(INTERNAL), config=CustomerRulesConfig())
    service = CustomerFactsService(db=h.db, history=billing, rating=RatingConfig(), listener=rules)
    try:
        change = await service.refresh("cus_std")  # reads the customer and invoices from Stripe
    finally:
        await billing.aclose()
    assert change is not None and change.after.outstanding == {"usd": 4_900}
    async with h.db.sessions() as session:
        profile = await session.get(CustomerProfile, "cus_std")
    assert profile is not None and profile.excluded
    assert profile.excluded_by == "customer-rule:Internal customers: no dunning"

    await h.deliver("invoice.payment_failed", "in_std")
    await h.run_jobs()
    case = await h.case("in_std")
    assert case is not None and case.status == CaseStatus.PAUSED
    assert h.drafter.requests == [] and h.notifier.calls == []

    async with h.db.transaction() as session:
        assert await include_customer(session, customer_id="cus_std", by=slack_actor("UFIN")) == 1
    await h.run_jobs()
    case = await h.case("in_std")
    assert case is not None and case.status == CaseStatus.OPEN
    assert len(await h.drafts(case.id)) == 1
    async with h.db.sessions() as session:
        actions = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
        profile = await session.get(CustomerProfile, "cus_std")
    assert "customer_included" in actions
    assert profile is not None and not profile.excluded and profile.included_by == "slack:UFIN"
