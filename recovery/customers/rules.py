"""Customer rules: which rules a customer's change fires, who wins a conflict, what is done.

- Triggers: the customer's facts first stored (`dunbot.customer.created`), stored or changed
  (`dunbot.customer.created_or_updated`), or a threshold crossed (`dunbot.customer.crossed`
  with the rule's `crossing`). Everything runs inside the transaction that stores the new
  facts, so a crossing is seen once; each firing is also unique per rule and profile version.
- Conflicts: rules are evaluated from the bottom of the file to the top and, for the same kind
  of assignment (owner, dunning plan, exclusion), the highest rule wins; the audit log names
  the rule that decided and the ones it overrode.
- Owners from a metadata email and notifications are jobs (`customer_action`): Slack is
  called outside the transaction, and a crash repeats the call rather than losing it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from recovery import audit
from recovery.customers.profiles import ProfileChange
from recovery.customers.view import CustomerView, customer_view
from recovery.domain import CustomerSnapshot
from recovery.jobkinds import JobKind
from recovery.notify import NotifyCall, enqueue_notify
from recovery.playbooks.evaluate import first_failure
from recovery.playbooks.fields import (
    CUSTOMER_CREATED,
    CUSTOMER_CREATED_OR_UPDATED,
    CUSTOMER_CROSSED,
)
from recovery.playbooks.rules import Mode, Playbook, Rule
from recovery.playbooks.store import insert_firing, rule_overrides
from recovery.playbooks.templates import render
from storage.models import (
    Case,
    CustomerOwner,
    CustomerProfile,
    FiringStatus,
    PlaybookFiring,
    TaskStatus,
    VipTask,
    utcnow,
)
from storage.queue import enqueue

ASSIGNMENTS = ("assign_owner", "assign_plan", "exclude")


def _identity(text: str) -> str:
    return text


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerRulesConfig:
    """Settings the customer rules need, passed in by the composition root."""

    dry_run: bool = False
    escape_value: Callable[[str], str] = _identity
    escape_text: Callable[[str], str] = _identity


@dataclass(frozen=True, slots=True)
class Applied:
    """One rule's outcome on one customer, for the audit log and `rules apply`."""

    rule: str
    action: str
    outcome: str  # "assigned" | "overridden" | "unchanged" | "queued" | "dry-run" | "kept"
    detail: str = ""
    over: tuple[str, ...] = field(default=())


async def owners_of(session: AsyncSession, customer_id: str) -> list[str]:
    rows = await session.scalars(
        select(CustomerOwner.slack_user_id)
        .where(CustomerOwner.customer_id == customer_id)
        .order_by(CustomerOwner.slack_user_id)
    )
    return list(rows.all())


async def set_owners(
    session: AsyncSession, *, customer_id: str, owners: Sequence[str], by: str
) -> bool:
    """Replace the customer's owners; False when they were already exactly these."""
    if sorted(set(owners)) == await owners_of(session, customer_id):
        return False
    await session.execute(delete(CustomerOwner).where(CustomerOwner.customer_id == customer_id))
    for owner in sorted(set(owners)):
        session.add(CustomerOwner(customer_id=customer_id, slack_user_id=owner, assigned_by=by))
    await session.flush()
    tasks = await session.scalars(
        select(VipTask.id)
        .join(Case, Case.id == VipTask.case_id)
        .where(Case.customer_id == customer_id, VipTask.status != TaskStatus.RESOLVED)
    )
    for task_id in tasks.all():  # open VIP task cards mention the owner: show the new one
        await enqueue_notify(session, NotifyCall.SYNC_VIP_TASK_CARD, task_id=task_id)
    return True


def fired_by(rule: Rule, change: ProfileChange) -> str | None:
    """The trigger this change fires for the rule, None when it fires none."""
    if CUSTOMER_CREATED in rule.triggers and change.created:
        return CUSTOMER_CREATED
    if CUSTOMER_CREATED_OR_UPDATED in rule.triggers and change.changed:
        return CUSTOMER_CREATED_OR_UPDATED
    crossing = rule.crossing
    if CUSTOMER_CROSSED in rule.triggers and crossing is not None:
        if crossing.crossed(change.before, change.after):
            return CUSTOMER_CROSSED
    return None


class CustomerRules:
    """Evaluates a playbook's customer rules on a customer's stored change."""

    def __init__(self, *, playbook: Playbook, config: CustomerRulesConfig) -> None:
        self.playbook = playbook
        self.config = config

    async def on_change(
        self, session: AsyncSession, *, change: ProfileChange, customer: CustomerSnapshot
    ) -> int:
        """Fire the rules this change triggers (inside the caller's transaction)."""
        rules = self.playbook.customer_rules
        if not rules:
            return 0
        overrides = await rule_overrides(session)
        triggered = [
            (rule, trigger)
            for rule in rules
            if overrides.get(rule.name, rule.enabled)
            and (trigger := fired_by(rule, change)) is not None
        ]
        if not triggered:
            return 0
        view = await self.view(session, customer, change=change)
        matched = [(r, t) for r, t in triggered if first_failure(r, view) is None]
        applied = await self.apply(
            session,
            customer=customer,
            view=view,
            matched=matched,
            event_id=f"customer:{customer.id}:v{change.version}",
        )
        return len(applied)

    async def view(
        self, session: AsyncSession, customer: CustomerSnapshot, *, change: ProfileChange
    ) -> CustomerView:
        profile = await session.get(CustomerProfile, customer.id)
        return customer_view(
            customer,
            change.after,
            segment=profile.segment if profile else None,
            owners=await owners_of(session, customer.id),
            dunning_plan=profile.dunning_plan if profile else None,
            excluded=bool(profile and profile.excluded),
            now=utcnow(),
        )

    async def apply(
        self,
        session: AsyncSession,
        *,
        customer: CustomerSnapshot,
        view: CustomerView,
        matched: Sequence[tuple[Rule, str]],
        event_id: str,
        dry_run: bool = False,
    ) -> list[Applied]:
        """Act on the matched rules (file order); the top rule of each assignment kind wins."""
        winners: dict[str, Rule] = {}
        losers: dict[str, list[str]] = {}
        for rule, _ in matched:
            kind = rule.actions[0].type
            if kind in ASSIGNMENTS:
                if kind in winners:
                    losers.setdefault(kind, []).append(rule.name)
                else:
                    winners[kind] = rule
        results: list[Applied] = []
        for rule, trigger in matched:
            action = rule.actions[0]
            rule_dry = dry_run or self.config.dry_run or rule.mode is Mode.DRY_RUN
            firing_id = None
            if not dry_run:
                firing_id = await insert_firing(
                    session,
                    rule_name=rule.name,
                    rule_version=rule.version,
                    event_id=event_id,
                    event_type=trigger,
                    subject_id=customer.id,
                    customer_id=customer.id,
                    mode=Mode.DRY_RUN.value if rule_dry else Mode.LIVE.value,
                )
                if firing_id is None:
                    continue  # this rule already acted on this version of the customer
            if action.type in ASSIGNMENTS and winners[action.type] is not rule:
                winner = winners[action.type].name
                result = Applied(rule.name, action.type, "overridden", f"by rule “{winner}”")
            elif rule_dry:
                result = Applied(rule.name, action.type, "dry-run", self.describe(rule, view))
            else:
                result = await self._act(
                    session,
                    rule=rule,
                    customer=customer,
                    view=view,
                    firing_id=firing_id,
                    over=tuple(losers.get(action.type, ())),
                )
            results.append(result)
            if dry_run:
                continue
            await audit.record(
                session,
                actor=f"customer-rule:{rule.name}",
                action=f"customer_rule.{result.outcome.replace('-', '_')}",
                customer_id=customer.id,
                rule=rule.name,
                rule_version=rule.version,
                trigger=trigger,
                type=action.type,
                detail=result.detail,
                over=list(result.over),
            )
            if firing_id is not None and result.outcome != "queued":
                await _finish_firing(session, firing_id)
        return results

    def describe(self, rule: Rule, view: CustomerView) -> str:
        """What the rule's action would do, in one line."""
        action = rule.actions[0]
        params = action.params
        if action.type == "assign_owner":
            return "owner " + ", ".join(_owner_label(o, view) for o in params["owner"])
        if action.type == "assign_plan":
            return f"dunning plan {params['plan']}"
        if action.type == "exclude":
            return f"exclude from dunning: {render(action.templates['reason'], view)}"
        return f"notify {params['to']}: {render(action.templates['text'], view)}"

    async def _act(
        self,
        session: AsyncSession,
        *,
        rule: Rule,
        customer: CustomerSnapshot,
        view: CustomerView,
        firing_id: int | None,
        over: tuple[str, ...],
    ) -> Applied:
        action = rule.actions[0]
        params = action.params
        profile = await session.get(CustomerProfile, customer.id)
        assert profile is not None
        decided = f"rule “{rule.name}”"
        if action.type == "assign_owner":
            owners: list[str] = list(params["owner"])
            if owners[0].startswith("metadata."):
                key = owners[0].removeprefix("metadata.")
                email = customer.metadata.get(key, "").strip()
                if not email:
                    return Applied(rule.name, action.type, "kept", f"metadata.{key} is empty", over)
                await enqueue(
                    session,
                    kind=JobKind.CUSTOMER_ACTION,
                    payload={
                        "call": "resolve_owner",
                        "firing_id": firing_id,
                        "email": email,
                        "customer_id": customer.id,
                        "over": list(over),
                    },
                    dedupe_key=f"customer_action:{firing_id}",
                    serial_key=f"customer:{customer.id}",
                )
                return Applied(rule.name, action.type, "queued", f"owner from metadata.{key}", over)
            changed = await set_owners(
                session, customer_id=customer.id, owners=owners, by=f"customer-rule:{rule.name}"
            )
            profile.owner_rule = rule.name
            shown = ", ".join(owners)
            return Applied(
                rule.name,
                action.type,
                "assigned" if changed else "unchanged",
                f"owner {shown} decided by {decided}",
                over,
            )
        if action.type == "assign_plan":
            changed = profile.dunning_plan != params["plan"]
            profile.dunning_plan, profile.plan_rule = params["plan"], rule.name
            return Applied(
                rule.name,
                action.type,
                "assigned" if changed else "unchanged",
                f"dunning plan {params['plan']} decided by {decided}",
                over,
            )
        if action.type == "exclude":
            if profile.included_by is not None:
                return Applied(
                    rule.name,
                    action.type,
                    "kept",
                    f"included by {profile.included_by}: rules do not exclude again",
                    over,
                )
            if profile.excluded:
                return Applied(rule.name, action.type, "unchanged", "already excluded", over)
            reason = " ".join(render(action.templates["reason"], view).split())[:1000]
            profile.excluded, profile.excluded_reason = True, reason
            profile.excluded_by = f"customer-rule:{rule.name}"
            return Applied(
                rule.name, action.type, "assigned", f"excluded by {decided}: {reason}", over
            )
        text = render(
            action.templates["text"],
            view,
            escape_value=self.config.escape_value,
            escape_text=self.config.escape_text,
        )
        await enqueue(
            session,
            kind=JobKind.CUSTOMER_ACTION,
            payload={
                "call": "notify",
                "firing_id": firing_id,
                "to": params["to"],
                "text": text,
                "customer_id": customer.id,
                "rule": rule.name,
            },
            dedupe_key=f"customer_action:{firing_id}",
            serial_key=f"customer:{customer.id}",
        )
        return Applied(rule.name, action.type, "queued", f"notify {params['to']}", over)


def _owner_label(owner: str, view: CustomerView) -> str:
    if owner.startswith("metadata."):
        value = view.lookup(owner)
        return f"{owner} ({value if isinstance(value, str) else 'empty'})"
    return owner


async def _finish_firing(
    session: AsyncSession, firing_id: int, status: FiringStatus = FiringStatus.DONE
) -> None:
    await session.execute(
        update(PlaybookFiring)
        .where(PlaybookFiring.id == firing_id, PlaybookFiring.status == FiringStatus.ACTING)
        .values(status=status, finished_at=utcnow())
    )


async def finish_firing(
    session: AsyncSession, firing_id: int | None, *, failed: bool = False
) -> None:
    """Close a firing whose queued action has run."""
    if firing_id is not None:
        await _finish_firing(
            session, firing_id, FiringStatus.FAILED if failed else FiringStatus.DONE
        )


__all__ = ["Applied", "CustomerRules", "CustomerRulesConfig"]
