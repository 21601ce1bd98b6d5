"""Facts are stored per customer, recomputed from Stripe's state, and printed."""

from __future__ import annotations

from recovery.customers.facts import RatingConfig
from recovery.customers.profiles import profile_of
from recovery.domain import CustomerSnapshot
from storage.db import Database
from tests.customers.history import MemoryHistory, days_ago, facts_service, open_invoice, paid


def _history() -> MemoryHistory:
    customer = CustomerSnapshot(
        id="cus_1",
        email="ada@example.com",
        created=days_ago(400),
        metadata={"segment": "enterprise"},
    )
    return MemoryHistory(
        customers={"cus_1": customer},
        invoices={
            "cus_1": [
                paid("in_1", amount=10000, due_days_ago=40, paid_days_ago=20),
                open_invoice("in_2", amount=4900, due_days_ago=2, attempts=1),
            ]
        },
    )


async def test_refresh_stores_the_facts_and_a_repeat_changes_nothing(db: Database) -> None:
    history = _history()
    service = facts_service(db, history)
    first = await service.refresh("cus_1")
    assert first is not None and first.created and first.version == 1
    again = await service.refresh("cus_1")
    assert again is not None and not again.changed and again.version == 1
    async with db.sessions() as session:
        profile = await profile_of(session, "cus_1")
    assert profile is not None
    assert profile.facts["outstanding"] == {"eur": 4900}
    assert profile.facts["avg_delay_days"] == 20.0
    assert profile.facts["rating"] == "C"
    assert profile.metadata_fields == {"segment": "enterprise"}
    assert profile.customer_since == days_ago(400)


async def test_customers_show_prints_the_facts(db: Database, database_url: str) -> None:
    from bot.customers_cli import show_customer

    lines: list[str] = []
    found = await show_customer(
        database_url=database_url,
        customer_id="cus_1",
        history=_history(),
        rating=RatingConfig(),
        echo=lines.append,
    )
    text = "\n".join(lines)
    assert found
    assert "Outstanding" in text and "€49.00" in text
    assert "Payment rating" in text and " C" in text
    assert "metadata.segment" in text and "enterprise" in text
    assert not await show_customer(
        database_url=database_url,
        customer_id="cus_unknown",
        history=None,
        rating=RatingConfig(),
        echo=lines.append,
    )
