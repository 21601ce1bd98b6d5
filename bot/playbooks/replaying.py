"""`dunbot rules replay`: the stored events of a period through the rules, nothing acted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.settings import Settings
from recovery.playbooks.facts import EventFacts
from recovery.playbooks.ports import PlaybookConfig
from recovery.playbooks.replay import ReplayReport, replay
from recovery.playbooks.rules import Playbook, Rule
from recovery.playbooks.runner import PlaybookRunner
from recovery.protocols import BillingError
from storage.db import Database
from storage.models import StripeEventRow, utcnow

BATCH = 500


async def replay_stored_events(
    settings: Settings,
    playbook: Playbook,
    *,
    period: timedelta,
    rule_name: str | None,
    read_stripe: bool,
) -> ReplayReport:
    """Replay the events Stripe created within `period`, oldest first."""
    db = Database(settings.database_url)
    billing: Any = None
    if read_stripe and settings.stripe_api_key is not None:
        from bot.adapters.stripe_billing import StripeBilling

        billing = StripeBilling.connect(
            api_key=settings.stripe_api_key.get_secret_value(), api_base=settings.stripe_api_base
        )
    runner = PlaybookRunner(
        db=db,
        playbook=playbook,
        objects=billing,
        writer=None,  # a replay never writes
        mailer=None,
        notifier=None,
        config=PlaybookConfig(),
    )

    async def prepare(facts: EventFacts, rules: list[Rule]) -> None:
        try:
            await runner.prepare_facts(facts, rules)
        except BillingError:
            pass  # left unread: the rule is reported as undecided

    try:
        return await replay(
            playbook, _stored_events(db, period), rule_name=rule_name, prepare=prepare
        )
    finally:
        if billing is not None:
            await billing.aclose()
        await db.dispose()


async def _stored_events(db: Database, period: timedelta) -> Any:
    cutoff = int((utcnow() - period).timestamp())
    last_created, last_id = -1, ""
    while True:
        async with db.sessions() as session:
            rows = (
                await session.execute(
                    select(StripeEventRow.id, StripeEventRow.stripe_created, StripeEventRow.payload)
                    .where(StripeEventRow.stripe_created >= cutoff)
                    .where(
                        (StripeEventRow.stripe_created > last_created)
                        | (
                            (StripeEventRow.stripe_created == last_created)
                            & (StripeEventRow.id > last_id)
                        )
                    )
                    .order_by(StripeEventRow.stripe_created, StripeEventRow.id)
                    .limit(BATCH)
                )
            ).all()
        if not rows:
            return
        for event_id, created, payload in rows:
            yield dict(payload)
            last_created, last_id = created, event_id


async def read_facts_from_stripe(settings: Settings, playbook: Playbook, facts: EventFacts) -> None:
    """For `rules test`: re-read what the rules look into (Stripe reads only, no writes)."""
    from bot.adapters.stripe_billing import StripeBilling

    assert settings.stripe_api_key is not None
    db = Database(settings.database_url)
    billing = StripeBilling.connect(
        api_key=settings.stripe_api_key.get_secret_value(), api_base=settings.stripe_api_base
    )
    runner = PlaybookRunner(
        db=db,
        playbook=playbook,
        objects=billing,
        writer=None,
        mailer=None,
        notifier=None,
        config=PlaybookConfig(),
    )
    rules = playbook.triggered_by(str(facts.event.get("type")))
    try:
        await runner.read_references(facts, rules)
    except BillingError:
        pass  # reported as "could not be read" by the conditions that need it
    finally:
        await billing.aclose()
        await db.dispose()
