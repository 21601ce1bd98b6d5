"""Customer rule actions that call Slack: run as `customer_action` jobs, outside the
transaction that fired them. A failure retries with backoff (the job), then dies and reaches a
person through the dead-job alert."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from recovery import audit
from recovery.customers.ports import CustomerNotifier
from recovery.customers.rules import finish_firing, owners_of, set_owners
from storage.db import Database
from storage.models import CustomerProfile, FiringStatus, PlaybookFiring

log = logging.getLogger("dunbot.customers")


class NotifyFailed(Exception):
    """A notification that cannot be delivered as configured (no Slack, no channel, …)."""


class CustomerActions:
    """Runs one queued customer action."""

    def __init__(
        self,
        *,
        db: Database,
        notifier: CustomerNotifier | None,
        channels: Mapping[str, str | None],
    ) -> None:
        self.db = db
        self.notifier = notifier
        self.channels = channels

    async def run(self, payload: Mapping[str, Any]) -> str:
        """Job body; returns what happened."""
        firing_id = payload.get("firing_id")
        async with self.db.sessions() as session:
            firing = await session.get(PlaybookFiring, firing_id) if firing_id else None
        if firing is not None and firing.status != FiringStatus.ACTING:
            return "already_done"
        if payload.get("call") == "resolve_owner":
            return await self._resolve_owner(payload, firing)
        return await self._notify(payload, firing)

    async def _resolve_owner(
        self, payload: Mapping[str, Any], firing: PlaybookFiring | None
    ) -> str:
        customer_id = str(payload["customer_id"])
        rule = firing.rule_name if firing else "?"
        user = await self._notifier().user_by_email(str(payload["email"]))
        async with self.db.transaction() as session:
            profile = await session.get(CustomerProfile, customer_id)
            if user is None or profile is None:
                await audit.record(
                    session,
                    actor=f"customer-rule:{rule}",
                    action="customer_rule.owner_not_found",
                    customer_id=customer_id,
                    rule=rule,
                    detail="no Slack user has the email in the customer's metadata",
                )
                await finish_firing(session, firing.id if firing else None, failed=True)
                return "owner_not_found"
            changed = await set_owners(
                session, customer_id=customer_id, owners=[user], by=f"customer-rule:{rule}"
            )
            profile.owner_rule = rule
            await audit.record(
                session,
                actor=f"customer-rule:{rule}",
                action="customer_rule.assigned" if changed else "customer_rule.unchanged",
                customer_id=customer_id,
                rule=rule,
                type="assign_owner",
                detail=f"owner {user} decided by rule “{rule}”",
                over=list(payload.get("over") or []),
            )
            await finish_firing(session, firing.id if firing else None)
        return "assigned" if changed else "unchanged"

    async def _notify(self, payload: Mapping[str, Any], firing: PlaybookFiring | None) -> str:
        customer_id = str(payload["customer_id"])
        to = str(payload["to"])
        if to == "owner":
            async with self.db.sessions() as session:
                targets = await owners_of(session, customer_id)
        elif to[:1] in ("U", "W", "C", "G"):
            targets = [to]
        else:
            channel = self.channels.get(to)
            targets = [channel] if channel else []
        rule = str(payload.get("rule") or (firing.rule_name if firing else "?"))
        notifier = self._notifier()
        for target in targets:
            await notifier.post_text(
                channel=target, text=str(payload["text"]), footer=f"Customer rule “{rule}”"
            )
        async with self.db.transaction() as session:
            await audit.record(
                session,
                actor=f"customer-rule:{rule}",
                action="customer_rule.notified" if targets else "customer_rule.nobody_to_notify",
                customer_id=customer_id,
                rule=rule,
                to=to,
                targets=targets,
            )
            await finish_firing(session, firing.id if firing else None, failed=not targets)
        return f"notified {len(targets)}"

    def _notifier(self) -> CustomerNotifier:
        if self.notifier is None:
            raise NotifyFailed("Slack is not configured (SLACK_BOT_TOKEN)")
        return self.notifier
