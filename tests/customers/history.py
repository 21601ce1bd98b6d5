"""Hand-built invoice histories, an in-memory CustomerHistory and the facts service over it,
for customer tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from recovery.customers.facts import InvoiceRecord, RatingConfig
from recovery.customers.ports import CustomerHistory
from recovery.customers.rules import CustomerRules, CustomerRulesConfig
from recovery.customers.service import CustomerFactsService
from recovery.domain import CustomerSnapshot
from recovery.playbooks.rules import Playbook
from storage.db import Database

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def paid(
    invoice_id: str, *, amount: int, due_days_ago: float, paid_days_ago: float, attempts: int = 1
) -> InvoiceRecord:
    """A paid invoice: due and paid that many days ago."""
    return InvoiceRecord(
        id=invoice_id,
        status="paid",
        currency="eur",
        amount_due=amount,
        amount_paid=amount,
        created=days_ago(due_days_ago + 30),
        due_date=days_ago(due_days_ago),
        paid_at=days_ago(paid_days_ago),
        attempt_count=attempts,
    )


def open_invoice(
    invoice_id: str,
    *,
    amount: int,
    currency: str = "eur",
    due_days_ago: float | None = None,
    attempts: int = 0,
) -> InvoiceRecord:
    return InvoiceRecord(
        id=invoice_id,
        status="open",
        currency=currency,
        amount_due=amount,
        amount_remaining=amount,
        created=days_ago(10),
        due_date=days_ago(due_days_ago) if due_days_ago is not None else None,
        attempt_count=attempts,
    )


@dataclass
class MemoryHistory:
    """Stripe's current state for one or more customers, changed by the test."""

    customers: dict[str, CustomerSnapshot] = field(default_factory=dict)
    invoices: dict[str, list[InvoiceRecord]] = field(default_factory=dict)

    async def get_customer(self, customer_id: str) -> CustomerSnapshot:
        return self.customers[customer_id]

    async def invoice_history(self, customer_id: str) -> list[InvoiceRecord]:
        return list(self.invoices.get(customer_id, []))


def customer_rules(playbook: Playbook) -> CustomerRules:
    """The rules file's customer rules with the default settings."""
    return CustomerRules(playbook=playbook, config=CustomerRulesConfig())


def facts_service(
    db: Database, history: CustomerHistory, *, rules: CustomerRules | None = None
) -> CustomerFactsService:
    """The facts service at NOW; with `rules`, they see every change."""
    return CustomerFactsService(
        db=db, history=history, rating=RatingConfig(), listener=rules, clock=lambda: NOW
    )


# A rule two rule files in these tests start with.
ENTERPRISE_UMA_OWNS = """
[[rule]]
name = "Enterprise: Uma owns"
trigger = "dunbot.customer.created_or_updated"
conditions = ['metadata.segment = "enterprise"']
[[rule.action]]
type = "assign_owner"
owner = "UUMA"
"""
