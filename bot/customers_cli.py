"""`dunbot customers show cus_…`: a customer's facts, refreshed from Stripe when it is set up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from recovery.customers.apply import ApplyReport, apply_rules
from recovery.customers.facts import RatingConfig
from recovery.customers.ports import CustomerHistory
from recovery.customers.profiles import profile_of
from recovery.customers.rules import owners_of
from recovery.customers.service import CustomerFactsService
from recovery.customers.show import profile_lines
from recovery.playbooks.rules import Playbook
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


async def apply_customer_rules(
    *,
    settings: Any,
    playbook: Playbook,
    customers: str,
    dry_run: bool,
    confirm: Callable[[ApplyReport], bool],
    echo: Callable[[str], None],
) -> ApplyReport | None:
    """The dry-run summary first; then, unless `dry_run` or not confirmed, the same for real."""
    from bot.wiring import build_billing, build_customer_rules

    db = Database(settings.database_url)
    billing = build_billing(settings) if settings.stripe_api_key is not None else None
    try:
        rules = build_customer_rules(settings, playbook)
        service = CustomerFactsService(
            db=db, history=billing, rating=settings.customer_rating, listener=rules
        )
        wanted = None if customers == "all" else [customers]
        preview = await apply_rules(
            db=db, rules=rules, service=service, customer_ids=wanted, dry_run=True
        )
        _print(preview, echo)
        if dry_run or not preview.counts or not confirm(preview):
            return preview
        done = await apply_rules(
            db=db, rules=rules, service=service, customer_ids=wanted, dry_run=False
        )
        _print(done, echo)
        return done
    finally:
        if billing is not None:
            await billing.aclose()
        await db.dispose()


def _print(report: ApplyReport, echo: Callable[[str], None]) -> None:
    echo("Dry run: nothing changed yet." if report.dry_run else "Applied.")
    for line in report.lines:
        echo(f"  {line}")
    for line in report.summary():
        echo(line)
    for customer in report.missing:
        echo(f"  {customer}: unknown (not in Stripe or not seen by dunbot), skipped")
