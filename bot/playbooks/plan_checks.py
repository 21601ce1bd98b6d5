"""`dunbot check` on dunning plans: warn when Stripe would retry an invoice dunbot retries.

Heuristic (documented in the README): the newest invoices dunbot is retrying on a plan (up to
`SAMPLE`) are re-read from Stripe; one with `next_payment_attempt` set has a Stripe retry
scheduled as well, so Stripe's automatic retries (Smart Retries or a custom schedule) are still
on for it. Nothing is written anywhere.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.settings import Settings
from recovery.plans.state import ACTIVE
from recovery.playbooks.loader import PlaybookInvalid, load_playbook_file
from storage.db import Database
from storage.models import CasePlan

SAMPLE = 20
README_HINT = (
    "turn Stripe's automatic retries off for subscriptions on a retrying plan "
    '(README, "Dunning plans and Stripe\'s retries")'
)


def retrying_plans(settings: Settings) -> list[str]:
    """Names of the rules file's plans that retry payments (none when there is no valid file)."""
    path = settings.playbooks_path
    if path is None or not path.is_file():
        return []
    try:
        playbook = load_playbook_file(path)
    except PlaybookInvalid:
        return []  # reported by the playbook check
    return [plan.name for plan in playbook.plans if plan.manages_payments]


async def managed_invoices(settings: Settings) -> list[tuple[str, str]]:
    """(invoice id, plan name) of the newest invoices dunbot retries; none if unreadable."""
    db = Database(settings.database_url)
    try:
        async with db.sessions() as session:
            rows = await session.execute(
                select(CasePlan.invoice_id, CasePlan.plan_name)
                .where(CasePlan.status.in_(ACTIVE))
                .order_by(CasePlan.id.desc())
                .limit(SAMPLE)
            )
            return [(invoice, plan) for invoice, plan in rows.all()]
    except Exception:  # noqa: BLE001 - no database or not migrated: reported by its own check
        return []
    finally:
        await db.dispose()


async def plan_retry_notes(settings: Settings) -> list[str]:
    """Notes for `dunbot check`: the plans that retry, and a warning per invoice Stripe would
    retry as well."""
    plans = retrying_plans(settings)
    if not plans:
        return []
    notes = [f"dunning plans retrying payments: {', '.join(plans)} — {README_HINT}"]
    if settings.stripe_api_key is None:
        return notes
    invoices = await managed_invoices(settings)
    if not invoices:
        return notes
    from bot.adapters.stripe_billing import StripeBilling

    billing = StripeBilling.connect(
        api_key=settings.stripe_api_key.get_secret_value(),
        api_base=settings.stripe_api_base,
        max_network_retries=0,
    )
    doubled: list[tuple[str, str, datetime]] = []
    try:
        for invoice_id, plan in invoices:
            try:
                invoice = await billing.get_invoice(invoice_id)
            except Exception:  # noqa: BLE001 - a check reads what it can
                continue
            if invoice.status == "open" and invoice.next_payment_attempt is not None:
                doubled.append((invoice_id, plan, invoice.next_payment_attempt))
    finally:
        await billing.aclose()
    for invoice_id, plan, when in doubled:
        notes.append(
            f"  WARNING: Stripe will retry {invoice_id} on {when:%Y-%m-%d %H:%M} UTC while "
            f'plan "{plan}" retries it too: {README_HINT}'
        )
    if invoices:
        notes.append(
            f"  checked {len(invoices)} invoice(s) on a plan: "
            f"{len(doubled)} with a Stripe retry scheduled"
        )
    return notes
