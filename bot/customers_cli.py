"""`dunbot customers show cus_…`: a customer's facts, refreshed from Stripe when it is set up."""

from __future__ import annotations

from collections.abc import Callable

from recovery.customers.facts import RatingConfig
from recovery.customers.ports import CustomerHistory
from recovery.customers.profiles import profile_of
from recovery.customers.rules import owners_of
from recovery.customers.service import CustomerFactsService
from recovery.customers.show import profile_lines
from storage.db import Database
from storage.models import utcnow


async def show_customer(
    *,
    database_url: str,
    customer_id: str,
    history: CustomerHistory | None,
    rating: RatingConfig,
    echo: Callable[[str], None],
) -> bool:
    """Refresh (when `history` is given) and print; False when the customer is unknown."""
    db = Database(database_url)
    try:
        if history is not None:
            await CustomerFactsService(db=db, history=history, rating=rating).refresh(customer_id)
        async with db.sessions() as session:
            profile = await profile_of(session, customer_id)
            owners = await owners_of(session, customer_id)
    finally:
        await db.dispose()
    if profile is None:
        return False
    echo(f"Customer {customer_id}")
    rows = profile_lines(profile, owners=owners, now=utcnow())
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        echo(f"  {label:<{width}}  {value}")
    return True
