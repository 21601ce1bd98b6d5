"""The customer rules of playbooks.example.toml act as their names say."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from recovery.customers.service import CustomerFactsService
from recovery.domain import CustomerSnapshot
from recovery.playbooks.loader import load_playbook_file
from storage.db import Database
from storage.models import CustomerProfile, Job
from tests.customers.history import (
    MemoryHistory,
    customer_rules,
    days_ago,
    facts_service,
    open_invoice,
    paid,
)

EXAMPLE = Path(__file__).parents[2] / "playbooks.example.toml"


def _service(db: Database, history: MemoryHistory) -> CustomerFactsService:
    return facts_service(db, history, rules=customer_rules(load_playbook_file(EXAMPLE)))


async def _jobs(db: Database) -> list[Job]:
    async with db.sessions() as session:
        query = select(Job).where(Job.kind == "customer_action").order_by(Job.id)
        return list((await session.scalars(query)).all())


async def test_internal_customers_are_excluded_by_domain_and_by_metadata(db: Database) -> None:
    history = MemoryHistory(
        customers={
            "cus_a": CustomerSnapshot(id="cus_a", email="qa@test.invalid"),
            "cus_b": CustomerSnapshot(
                id="cus_b", email="x@y.example", metadata={"internal": "true"}
            ),
            "cus_c": CustomerSnapshot(id="cus_c", email="x@y.example"),
        }
    )
    service = _service(db, history)
    for customer_id in history.customers:
        await service.refresh(customer_id)
    async with db.sessions() as session:
        excluded = {
            p.customer_id: p.excluded for p in (await session.scalars(select(CustomerProfile)))
        }
    assert excluded == {"cus_a": True, "cus_b": True, "cus_c": False}


async def test_enterprise_owner_lookup_delay_alert_and_nearly_settled_notice(
    db: Database,
) -> None:
    customer = CustomerSnapshot(
        id="cus_e",
        name="Big Co",
        email="ap@big.example",
        created=days_ago(500),
        metadata={"segment": "enterprise", "account_manager_email": "am@acme.test"},
    )
    history = MemoryHistory(customers={"cus_e": customer})
    history.invoices["cus_e"] = [
        paid("in_1", amount=1000, due_days_ago=60, paid_days_ago=50),
        open_invoice("in_2", amount=50000, currency="eur"),
    ]
    service = _service(db, history)
    await service.refresh("cus_e")
    [lookup] = await _jobs(db)
    assert lookup.payload == {**lookup.payload, "call": "resolve_owner", "email": "am@acme.test"}

    history.invoices["cus_e"][0] = paid("in_1", amount=1000, due_days_ago=60, paid_days_ago=30)
    await service.refresh("cus_e")  # delay 10 → 30 days: crosses 25
    history.invoices["cus_e"][1] = open_invoice("in_2", amount=5000, currency="eur")
    await service.refresh("cus_e")  # 500 EUR → 50 EUR: falls below 100 EUR
    notices = [j.payload for j in await _jobs(db) if j.payload["call"] == "notify"]
    assert [(n["to"], n["rule"]) for n in notices] == [
        ("alerts", "Payment delay above 25 days: tell the finance lead"),
        ("owner", "Outstanding below 100 EUR: tell the owner"),
    ]
    assert "30 days late" in notices[0]["text"] and "€50.00" in notices[1]["text"]
