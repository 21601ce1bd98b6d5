"""Customer rules: crossings fire once per crossing, conflicts resolve top-down, audit says so."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from recovery.customers.rules import owners_of
from recovery.customers.service import CustomerFactsService
from recovery.domain import CustomerSnapshot
from recovery.playbooks.loader import PlaybookInvalid, load_playbook_text
from storage.db import Database
from storage.models import AuditEntry, CustomerProfile, Job, PlaybookFiring
from tests.customers.history import (
    ENTERPRISE_UMA_OWNS,
    MemoryHistory,
    customer_rules,
    days_ago,
    facts_service,
    open_invoice,
)

OUTSTANDING_RULES = """
[[rule]]
name = "Outstanding above 500 EUR"
trigger = "dunbot.customer.crossed"
crossing = 'outstanding rises above "500.00 EUR"'
[[rule.action]]
type = "notify"
to = "alerts"
text = "{name} owes {outstanding}"

[[rule]]
name = "Outstanding below 100 EUR"
trigger = "dunbot.customer.crossed"
crossing = 'outstanding falls below "100.00 EUR"'
[[rule.action]]
type = "notify"
to = "owner"
text = "{name} is nearly settled"
"""

OWNER_RULES = (
    ENTERPRISE_UMA_OWNS
    + """
[[rule]]
name = "Everyone: Bob owns"
trigger = "dunbot.customer.created_or_updated"
conditions = ['metadata.segment is not "internal"']
[[rule.action]]
type = "assign_owner"
owner = ["UBOB"]
"""
)


def _service(db: Database, history: MemoryHistory, rules_text: str) -> CustomerFactsService:
    return facts_service(db, history, rules=customer_rules(load_playbook_text(rules_text)))


def _history(**metadata: str) -> MemoryHistory:
    customer = CustomerSnapshot(
        id="cus_1", name="Ada", email="ada@example.com", created=days_ago(300), metadata=metadata
    )
    return MemoryHistory(customers={"cus_1": customer}, invoices={"cus_1": []})


async def _firings(db: Database, rule: str) -> list[PlaybookFiring]:
    async with db.sessions() as session:
        query = select(PlaybookFiring).where(PlaybookFiring.rule_name == rule)
        return list((await session.scalars(query)).all())


async def test_a_crossing_fires_once_per_crossing_and_never_for_repeats(db: Database) -> None:
    history = _history()
    service = _service(db, history, OUTSTANDING_RULES)
    amounts = [10000, 60000, 70000, 60000, 5000, 5000, 80000, 80000]  # minor units of EUR
    # below, up, above, above, down (below 100), same, up again, same
    for position, amount in enumerate(amounts):
        history.invoices["cus_1"] = [open_invoice(f"in_{position}", amount=amount)]
        await service.refresh("cus_1")
        await service.refresh("cus_1")  # a duplicate event: the same state, nothing new
    assert len(await _firings(db, "Outstanding above 500 EUR")) == 2
    assert len(await _firings(db, "Outstanding below 100 EUR")) == 1
    async with db.sessions() as session:
        jobs = (await session.scalars(select(Job).where(Job.kind == "customer_action"))).all()
    assert len(jobs) == 3
    assert {j.payload["to"] for j in jobs} == {"alerts", "owner"}
    assert all("€" in j.payload["text"] for j in jobs if j.payload["to"] == "alerts")


async def test_reordered_events_do_not_fire_twice(db: Database) -> None:
    """Events carry no state of their own here: each refresh reads Stripe's current state, so
    a late `customer.updated` after a newer one finds nothing changed."""
    history = _history()
    service = _service(db, history, OUTSTANDING_RULES)
    history.invoices["cus_1"] = [open_invoice("in_a", amount=1000)]
    await service.refresh("cus_1")
    history.invoices["cus_1"] = [open_invoice("in_a", amount=90000)]
    for _ in range(3):  # the newer event, then the older one and a duplicate, arriving late
        await service.refresh("cus_1")
    assert len(await _firings(db, "Outstanding above 500 EUR")) == 1


async def test_a_customers_first_facts_are_no_crossing(db: Database) -> None:
    history = _history()
    history.invoices["cus_1"] = [open_invoice("in_a", amount=90000)]
    await _service(db, history, OUTSTANDING_RULES).refresh("cus_1")
    assert await _firings(db, "Outstanding above 500 EUR") == []


async def test_two_conflicting_owner_rules_the_top_one_wins_and_the_audit_says_so(
    db: Database,
) -> None:
    await _service(db, _history(segment="enterprise"), OWNER_RULES).refresh("cus_1")
    async with db.sessions() as session:
        assert await owners_of(session, "cus_1") == ["UUMA"]
        profile = await session.get(CustomerProfile, "cus_1")
        entries = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action.like("customer_rule.%"))
            )
        ).all()
    assert profile is not None and profile.owner_rule == "Enterprise: Uma owns"
    by_action = {e.action: e.detail for e in entries}
    assigned = by_action["customer_rule.assigned"]
    assert assigned["rule"] == "Enterprise: Uma owns"
    assert "decided by rule “Enterprise: Uma owns”" in assigned["detail"]
    assert assigned["over"] == ["Everyone: Bob owns"]
    overridden = by_action["customer_rule.overridden"]
    assert overridden["rule"] == "Everyone: Bob owns"
    assert "Enterprise: Uma owns" in overridden["detail"]


async def test_is_not_filters_and_only_the_matching_rule_assigns(db: Database) -> None:
    await _service(db, _history(segment="smb"), OWNER_RULES).refresh("cus_1")
    async with db.sessions() as session:
        assert await owners_of(session, "cus_1") == ["UBOB"]
    await _service(db, _history(segment="internal"), OWNER_RULES).refresh("cus_1")
    async with db.sessions() as session:
        assert await owners_of(session, "cus_1") == ["UBOB"]  # no rule matched: kept


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('trigger = "dunbot.customer.crossed"\n', "needs a crossing"),
        (
            "trigger = \"dunbot.customer.crossed\"\ncrossing = 'outstanding above 12'\n",
            "not an amount",
        ),
        ('trigger = "dunbot.customer.crossed"\ncrossing = \'rating below "E"\'\n', "A, B, C, D"),
        ('trigger = "invoice.paid"\n', "customer rule action"),
    ],
)
def test_rules_check_explains_bad_customer_rules(body: str, message: str) -> None:
    text = f'[[rule]]\nname = "R"\n{body}[[rule.action]]\ntype = "assign_plan"\nplan = "gentle"\n'
    with pytest.raises(PlaybookInvalid, match=message):
        load_playbook_text(text)


def test_a_crossing_reads_grades_and_days() -> None:
    from recovery.customers.crossings import parse_crossing
    from recovery.customers.facts import CustomerFacts

    falls = parse_crossing('rating falls below "B"')
    good, bad = CustomerFacts(rating="B"), CustomerFacts(rating="C")
    assert falls.crossed(good, bad) and not falls.crossed(bad, bad) and not falls.crossed(None, bad)
    late = parse_crossing("avg_delay_days above 25")
    assert late.crossed(CustomerFacts(avg_delay_days=10), replace(good, avg_delay_days=26.0))
