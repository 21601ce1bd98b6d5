"""`dunbot rules apply`: a dry-run summary that changes nothing, then the same for real."""

from __future__ import annotations

from sqlalchemy import func, select

from recovery.customers.apply import apply_rules
from recovery.customers.rules import owners_of
from recovery.domain import CustomerSnapshot
from recovery.playbooks.loader import load_playbook_text
from storage.db import Database
from storage.models import AuditEntry, CustomerProfile
from tests.customers.history import (
    ENTERPRISE_UMA_OWNS,
    MemoryHistory,
    customer_rules,
    days_ago,
    facts_service,
)

RULES = (
    ENTERPRISE_UMA_OWNS
    + """
[[rule]]
name = "Test customers: exclude"
trigger = "dunbot.customer.created"
conditions = ['email_domain = "test.invalid"']
[[rule.action]]
type = "exclude"
reason = "test customer"

[[rule]]
name = "Big debts: tell alerts"
trigger = "dunbot.customer.crossed"
crossing = 'outstanding above "10.00 EUR"'
[[rule.action]]
type = "notify"
to = "alerts"
text = "{id}"
"""
)


def _history() -> MemoryHistory:
    def customer(cid: str, email: str, **metadata: str) -> CustomerSnapshot:
        return CustomerSnapshot(id=cid, email=email, created=days_ago(90), metadata=metadata)

    customers = [
        customer("cus_ent", "cfo@big.example", segment="enterprise"),
        customer("cus_test", "qa@test.invalid"),
        customer("cus_plain", "jo@small.example"),
    ]
    return MemoryHistory(customers={c.id: c for c in customers}, invoices={})


async def test_bulk_apply_dry_run_then_apply(db: Database) -> None:
    history = _history()
    plain = facts_service(db, history)
    for customer_id in history.customers:  # customers dunbot knew before the rules existed
        await plain.refresh(customer_id)
    rules = customer_rules(load_playbook_text(RULES))
    service = facts_service(db, history, rules=rules)

    preview = await apply_rules(
        db=db, rules=rules, service=service, customer_ids=None, dry_run=True
    )
    assert preview.customers == 3
    assert sum(preview.counts.values()) == 2
    assert any("owner UUMA" in what for what in preview.counts)
    assert any("exclude from dunning: test customer" in what for what in preview.counts)
    async with db.sessions() as session:
        assert await owners_of(session, "cus_ent") == []
        test = await session.get(CustomerProfile, "cus_test")
        assert test is not None and not test.excluded
        audited = await session.scalar(select(func.count()).select_from(AuditEntry))
    assert audited == 0  # the dry run wrote nothing

    done = await apply_rules(db=db, rules=rules, service=service, customer_ids=None, dry_run=False)
    assert sum(done.counts.values()) == 2
    async with db.sessions() as session:
        assert await owners_of(session, "cus_ent") == ["UUMA"]
        test = await session.get(CustomerProfile, "cus_test")
        plain_profile = await session.get(CustomerProfile, "cus_plain")
    assert test is not None and test.excluded and test.excluded_reason == "test customer"
    assert plain_profile is not None and not plain_profile.excluded

    again = await apply_rules(db=db, rules=rules, service=service, customer_ids=None, dry_run=False)
    assert sum(again.counts.values()) == 0  # unchanged customers: applied once
