"""Running playbooks: evaluate an event, fire the matching rules, run their actions as jobs.

- Evaluation is a job (`evaluate_playbooks`) queued when a stored event is processed. Each
  match inserts a firing (unique per rule and event: at most once) and its action rows, and
  queues the first action, in one transaction.
- Each action is a job (`playbook_action`); when it is done the next one is queued in the same
  transaction (a `wait` as a job with a due time). Actions needing approval stop at
  `awaiting_approval` until a finance approver decides (compare-and-set).
- Stripe is re-read before every write, and every write carries an idempotency key derived
  from rule and event; an email is marked `running` before it is sent and never sent twice.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from recovery import audit
from recovery.customers.rules import owners_of
from recovery.jobkinds import JobKind
from recovery.money import format_amount
from recovery.playbooks.cancellation import cancelled_by_dunbot, render_cancellation
from recovery.playbooks.durations import parse_duration
from recovery.playbooks.evaluate import (
    action_amount,
    charge_id,
    customer_id,
    describe_action,
    evaluate,
    needs_approval,
    references_to_read,
    subject_id,
)
from recovery.playbooks.executors import EXECUTORS, ActionFailed, Execution
from recovery.playbooks.facts import EventFacts
from recovery.playbooks.fields import CUSTOMER_FACTS, object_kind, reference_kinds
from recovery.playbooks.overdue import days_overdue, firing_key, is_overdue
from recovery.playbooks.ports import (
    OverdueAlert,
    PlaybookConfig,
    PlaybookNotifier,
    StripeObjects,
)
from recovery.playbooks.rules import Mode, Playbook, Rule
from recovery.playbooks.store import (
    acting_firings_of_subject,
    actions_of,
    cancel_open_actions,
    insert_firing,
    rule_overrides,
)
from recovery.playbooks.templates import render
from recovery.protocols import (
    BillingError,
    BillingWriter,
    Mailer,
    MailError,
    NotFoundError,
    PermanentMailError,
    TemporaryMailError,
    UnknownMailOutcome,
)
from storage.db import Database, rows_affected
from storage.models import (
    OPEN_CASE_STATUSES,
    Case,
    CustomerProfile,
    CustomerRow,
    FiringStatus,
    PlaybookAction,
    PlaybookActionStatus,
    PlaybookFiring,
    StripeEventRow,
    utcnow,
)
from storage.queue import enqueue

log = logging.getLogger("dunbot.playbooks")

# Settling events: waits of rules about that invoice are cancelled.
SETTLING_EVENT_TYPES = frozenset(
    {"invoice.paid", "invoice.payment_succeeded", "invoice.voided", "invoice.marked_uncollectible"}
)
SETTLED_INVOICE_STATUSES = frozenset({"paid", "void", "uncollectible"})
Status = PlaybookActionStatus
EMAIL_ACTIONS = frozenset({"email_team", "email_cancellation"})  # sent once, never resent


def idempotency_key(*, rule_name: str, event_id: str, position: int) -> str:
    """The same rule, event and action always send the same key: Stripe acts once."""
    digest = hashlib.sha256(f"{rule_name}\0{event_id}".encode()).hexdigest()[:32]
    return f"dunbot-playbook-{digest}-{position}"


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of an Approve/Reject click."""

    outcome: str  # "approved" | "rejected" | "already" | "missing"
    status: str = ""
    by: str | None = None


class PlaybookRunner:
    """Evaluates events against one playbook and runs the actions of its firings."""

    def __init__(
        self,
        *,
        db: Database,
        playbook: Playbook,
        objects: StripeObjects | None,
        writer: BillingWriter | None,
        mailer: Mailer | None,
        notifier: PlaybookNotifier | None,
        config: PlaybookConfig,
    ) -> None:
        self.db = db
        self.playbook = playbook
        self.objects = objects
        self.writer = writer
        self.mailer = mailer
        self.notifier = notifier
        self.config = config

    # ---- evaluation ---------------------------------------------------------------------

    def wants(self, event_type: str) -> bool:
        """Whether an event of this type needs an evaluation job."""
        if event_type in self.playbook.event_types:
            return True
        return event_type in SETTLING_EVENT_TYPES and any(
            a.type == "wait" for r in self.playbook.rules for a in r.actions
        )

    async def evaluate_stored_event(self, event_id: str) -> int:
        """Job body for a stored Stripe event; returns how many rules fired."""
        async with self.db.sessions() as session:
            row = await session.get(StripeEventRow, event_id)
            payload = dict(row.payload) if row is not None else None
        if payload is None:
            return 0
        return await self.evaluate(payload)

    async def evaluate(self, event: dict[str, Any]) -> int:
        """Fire every enabled rule the event matches (each at most once)."""
        event_type = str(event.get("type"))
        kind = object_kind(event_type)
        if kind is None:
            return 0
        if event_type in SETTLING_EVENT_TYPES:
            await self._cancel_waits_of(event, reason=event_type)
        rules = self.playbook.triggered_by(event_type)
        if not rules:
            return 0
        async with self.db.sessions() as session:
            overrides = await rule_overrides(session)

        def is_enabled(rule: Rule) -> bool:
            return overrides.get(rule.name, rule.enabled)

        enabled = [r for r in rules if is_enabled(r)]
        if not enabled:
            return 0
        facts = EventFacts.from_event(event, kind=kind)
        await self.prepare_facts(facts, enabled)
        fired = 0
        for outcome in evaluate(self.playbook, event_type, facts, is_enabled=is_enabled):
            if outcome.matched:
                async with self.db.transaction() as session:
                    fired += await self._fire(session, outcome.rule, event, facts)
        return fired

    async def prepare_facts(self, facts: EventFacts, rules: list[Rule]) -> None:
        """Read what the rules look at: referenced objects from Stripe, customer facts."""
        await self.read_references(facts, rules)
        facts.customer_facts = await self._customer_facts(customer_id(facts))

    async def read_references(self, facts: EventFacts, rules: list[Rule]) -> None:
        """Re-read from Stripe the objects the rules look into (the truth, not the event)."""
        if self.objects is None:
            return
        kinds = reference_kinds(facts.kind)
        for name in sorted(references_to_read(rules, facts.kind)):
            object_id = facts.reference_id(name)
            if object_id is None:
                continue
            try:
                facts.related[name] = await self.objects.retrieve_object(kinds[name], object_id)
            except NotFoundError:
                facts.related[name] = {}

    async def _customer_facts(self, customer: str | None) -> dict[str, Any]:
        """dunbot's facts about the customer: segment, LTV per currency, open cases."""
        if customer is None:
            return {}
        async with self.db.sessions() as session:
            row = await session.get(CustomerRow, customer)
            open_cases = list(
                (
                    await session.scalars(
                        select(Case.segment)
                        .where(Case.customer_id == customer, Case.status.in_(OPEN_CASE_STATUSES))
                        .order_by(Case.id.desc())
                    )
                ).all()
            )
            profile = await session.get(CustomerProfile, customer)
            owners = await owners_of(session, customer)
        tier = row.tier_override if row is not None else None
        segment = tier or next((s for s in open_cases if s), None) or "standard"
        ltv = {k: int(v) for k, v in ((row.ltv_by_currency or {}) if row else {}).items()}
        facts: dict[str, Any] = {"segment": segment, "ltv": ltv, "open_cases": len(open_cases)}
        if owners:
            facts["owner"] = owners[0]
        if profile is not None:
            stored = profile.facts or {}
            facts["rating"] = stored.get("rating")
            facts["outstanding"] = dict(stored.get("outstanding") or {})
            facts["avg_delay_days"] = stored.get("avg_delay_days")
            facts["excluded"] = profile.excluded
        return {k: v for k, v in facts.items() if k in CUSTOMER_FACTS}

    async def _fire(
        self, session: AsyncSession, rule: Rule, event: dict[str, Any], facts: EventFacts
    ) -> int:
        dry_run = self.config.dry_run or rule.mode is Mode.DRY_RUN
        event_id = firing_key(event)  # the event id; `overdue:<invoice>` once per invoice
        firing_id = await insert_firing(
            session,
            rule_name=rule.name,
            rule_version=rule.version,
            event_id=event_id,
            event_type=str(event.get("type")),
            subject_id=subject_id(facts),
            customer_id=customer_id(facts),
            mode=Mode.DRY_RUN.value if dry_run else Mode.LIVE.value,
        )
        if firing_id is None:
            return 0
        for position, action in enumerate(rule.actions):
            params = self._materialise(
                action, facts, event_id=event_id, rule=rule, position=position
            )
            session.add(
                PlaybookAction(
                    firing_id=firing_id,
                    position=position,
                    type=action.type,
                    status=Status.DRY_RUN if dry_run else Status.PENDING,
                    params=params,
                    needs_approval=needs_approval(action, facts, kind=facts.kind),
                )
            )
        await session.flush()
        first = (await actions_of(session, firing_id))[0]
        await audit.record(
            session,
            actor=f"playbook:{rule.name}",
            action="playbook.matched",
            customer_id=customer_id(facts),
            rule=rule.name,
            rule_version=rule.version,
            event_id=event_id,
            event_type=str(event.get("type")),
            subject=subject_id(facts),
            mode="dry-run" if dry_run else "live",
        )
        await self._queue_action(session, first, firing_id=firing_id)
        return 1

    def _materialise(
        self, action: Any, facts: EventFacts, *, event_id: str, rule: Rule, position: int
    ) -> dict[str, Any]:
        """The action's parameters with everything read now: rendered texts, ids, amounts."""
        params: dict[str, Any] = {
            "describe": describe_action(
                action, facts, team_email=self.config.team_email, channel_names={}
            ),
            "rule": rule.name,
            "rule_version": rule.version,
            "event_id": event_id,
        }
        p = action.params
        if action.type == "slack":
            params["channel"] = p["channel"]
            params["channel_id"] = self.config.channel(p["channel"])
            params["text"] = render(
                action.templates["text"],
                facts,
                escape_value=self.config.escape_value,
                escape_text=self.config.escape_text,
            )
        elif action.type == "email_team":
            params["to"] = self.config.team_email if p["to"] == "team" else p["to"]
            params["subject"] = " ".join(render(action.templates["subject"], facts).split())
            params["body"] = render(action.templates["body"], facts).strip()
        elif action.type == "set_customer_metadata":
            params["customer"] = customer_id(facts)
            params["metadata"] = dict(p["metadata"])
        elif action.type == "refund_charge":
            params["charge"] = charge_id(facts)
            params["reason"] = p["reason"]
            amount = action_amount(action, facts, kind=facts.kind)
            if amount is not None:
                params["amount"], params["currency"] = amount
            params["customer"] = customer_id(facts)
        elif action.type == "alert_overdue":
            params["channel"] = p["channel"]
            params["channel_id"] = self.config.channel(p["channel"])
            params["invoice"] = subject_id(facts)
            params["customer"] = customer_id(facts)
            customer = facts.related.get("customer") or {}
            name = customer.get("name") or facts.obj.get("customer_name")
            params["customer_name"] = name if isinstance(name, str) else None
            owner = facts.customer_facts.get("owner")
            params["owner"] = owner if isinstance(owner, str) else None
        elif action.type == "email_cancellation":
            params.update(self._cancellation_params(facts, closeout=p["closeout"]))
        elif action.type == "wait":
            params["duration"] = p["duration"]
            params["seconds"] = parse_duration(p["duration"]).total_seconds()
        params["idempotency_key"] = idempotency_key(
            rule_name=rule.name, event_id=event_id, position=position
        )
        return params

    def _cancellation_params(self, facts: EventFacts, *, closeout: str) -> dict[str, Any]:
        """The confirmation rendered now (customer re-read), or why it is not sent."""
        params: dict[str, Any] = {"customer": customer_id(facts)}
        if cancelled_by_dunbot(facts.obj) and closeout != "send":
            params["skip"] = "cancelled by dunbot's close-out: no confirmation (closeout = skip)"
            return params
        customer = facts.related.get("customer")
        if not customer or customer.get("deleted"):
            params["skip"] = "the customer could not be read: no confirmation sent"
            return params
        email = render_cancellation(
            facts.obj,
            customer,
            company=self.config.company_name,
            survey_url=self.config.cancellation_survey_url,
        )
        if email is None:
            params["skip"] = "the customer has no email address: no confirmation sent"
            return params
        params.update(
            to=email.to,
            subject=email.subject,
            body=email.text,
            html=email.html,
            language=email.language,
            non_payment=email.non_payment,
        )
        return params

    async def _queue_action(
        self, session: AsyncSession, action: PlaybookAction, *, firing_id: int, step: str = "run"
    ) -> None:
        run_at = None
        if action.type == "wait" and action.status == Status.PENDING:
            run_at = utcnow() + timedelta(seconds=float(action.params.get("seconds", 0)))
            action.due_at = run_at
        await enqueue(
            session,
            kind=JobKind.PLAYBOOK_ACTION,
            payload={"action_id": action.id},
            dedupe_key=f"playbook_action:{action.id}:{step}",
            serial_key=f"playbook_firing:{firing_id}",
            run_at=run_at,
            max_attempts=self.config.max_attempts,
        )

    async def _cancel_waits_of(self, event: dict[str, Any], *, reason: str) -> None:
        obj = event.get("data", {}).get("object", {})
        invoice = obj.get("id") if isinstance(obj, dict) else None
        if not isinstance(invoice, str):
            return
        async with self.db.transaction() as session:
            firings = await acting_firings_of_subject(session, invoice)
            cancelled = await cancel_open_actions(
                session, firing_ids=firings, reason=f"invoice settled ({reason})"
            )
            if cancelled:
                await audit.record(
                    session,
                    actor=f"stripe:{event.get('id')}",
                    action="playbook.cancelled",
                    subject=invoice,
                    actions=cancelled,
                    reason=reason,
                )

    # ---- actions ------------------------------------------------------------------------

    async def run_action(self, action_id: int, *, final_attempt: bool) -> str:
        """Job body: run one action (or ask for its approval); returns what happened."""
        async with self.db.sessions() as session:
            action = await session.get(PlaybookAction, action_id)
            firing = await session.get(PlaybookFiring, action.firing_id) if action else None
        if action is None or firing is None:
            return "missing"
        if firing.mode == Mode.DRY_RUN.value:
            return await self._report_dry_run(firing)
        if action.status in (Status.RUNNING,) and action.type in EMAIL_ACTIONS:
            return await self._interrupted_email(action, firing)
        if action.status not in (Status.PENDING, Status.APPROVED):
            return f"skipped_{action.status}"
        if action.type == "wait":
            return await self._finish_wait(action, firing)
        if action.status == Status.PENDING and action.needs_approval:
            return await self._request_approval(action, firing)
        try:
            result = await self._execute(action, firing)
        except ActionFailed as error:
            await self._fail(action, firing, str(error))
            return "failed"
        except (BillingError, TemporaryMailError) as error:
            if final_attempt:
                await self._fail(action, firing, f"{type(error).__name__}: {error}")
                return "failed"
            if action.type in EMAIL_ACTIONS:
                await self._set_status(action.id, Status.PENDING, expect=(Status.RUNNING,))
            raise
        except (PermanentMailError, UnknownMailOutcome, MailError) as error:
            status = Status.UNKNOWN if isinstance(error, UnknownMailOutcome) else Status.FAILED
            await self._fail(action, firing, f"{type(error).__name__}: {error}", status=status)
            return str(status)
        async with self.db.transaction() as session:
            done = await session.execute(
                update(PlaybookAction)
                .where(
                    PlaybookAction.id == action.id,
                    PlaybookAction.status.in_([Status.PENDING, Status.APPROVED, Status.RUNNING]),
                )
                .values(
                    status=Status.DONE,
                    result=result,
                    version=PlaybookAction.version + 1,
                    updated_at=utcnow(),
                )
            )
            if rows_affected(done) != 1:
                return "already_done"
            await _audit_firing(
                session,
                firing,
                action="playbook.action_done",
                event_id=firing.event_id,
                type=action.type,
                position=action.position,
                result=result,
                decided_by=action.decided_by,
            )
            if action.needs_approval:
                await self._queue_card(session, action.id)
            await self._advance(session, firing, action)
        return "done"

    async def _execute(self, action: PlaybookAction, firing: PlaybookFiring) -> str:
        if action.type == "alert_overdue":
            return await self._alert_overdue(action, firing)
        executor = EXECUTORS.get(action.type)
        if executor is None:
            raise ActionFailed(f"no executor for action type {action.type}")

        async def claim() -> bool:
            return await self._set_status(
                action.id, Status.RUNNING, expect=(Status.PENDING, Status.APPROVED)
            )

        return await executor(
            Execution(
                action_id=action.id,
                firing_id=firing.id,
                rule_name=firing.rule_name,
                rule_version=firing.rule_version,
                params=dict(action.params),
                objects=self.objects,
                writer=self.writer,
                mailer=self.mailer,
                notifier=self.notifier,
                config=self.config,
                claim=claim,
            )
        )

    async def _alert_overdue(self, action: PlaybookAction, firing: PlaybookFiring) -> str:
        """Re-read the invoice; still overdue → the alert with days, amount, owner, Claim."""
        params = action.params
        invoice_id = params.get("invoice")
        if not invoice_id:
            raise ActionFailed("the event has no invoice")
        if self.notifier is None:
            raise ActionFailed("Slack is not configured (SLACK_BOT_TOKEN)")
        channel = params.get("channel_id")
        if not channel:
            raise ActionFailed(f'no channel configured for "{params.get("channel")}"')
        invoice = await self._objects().retrieve_object("invoice", invoice_id)
        now = utcnow()
        if not is_overdue(invoice, now=now):
            return f"invoice {invoice_id} is {invoice.get('status')}, not overdue: nothing posted"
        amount = format_amount(
            int(invoice.get("amount_remaining") or 0), str(invoice.get("currency") or "usd")
        )
        number = invoice.get("number")
        await self.notifier.post_overdue_alert(
            channel=channel,
            alert=OverdueAlert(
                action_id=action.id,
                invoice_id=invoice_id,
                number=number if isinstance(number, str) else None,
                customer_id=params.get("customer"),
                customer_name=params.get("customer_name"),
                owner=params.get("owner"),
                amount=amount,
                days_overdue=days_overdue(invoice, now=now) or 0,
                rule=firing.rule_name,
            ),
        )
        return f"alerted {channel}: invoice {invoice_id} overdue, {amount} open"

    def _objects(self) -> StripeObjects:
        if self.objects is None:
            raise ActionFailed("Stripe is not configured")
        return self.objects

    async def _set_status(
        self, action_id: int, status: Status, *, expect: tuple[Status, ...]
    ) -> bool:
        async with self.db.transaction() as session:
            result = await session.execute(
                update(PlaybookAction)
                .where(PlaybookAction.id == action_id, PlaybookAction.status.in_(list(expect)))
                .values(status=status, version=PlaybookAction.version + 1, updated_at=utcnow())
            )
            return rows_affected(result) == 1

    async def _advance(
        self, session: AsyncSession, firing: PlaybookFiring, action: PlaybookAction
    ) -> None:
        """Queue the next action, or close the firing after the last."""
        following = [
            a for a in await actions_of(session, firing.id) if a.position > action.position
        ]
        if not following:
            await session.execute(
                update(PlaybookFiring)
                .where(PlaybookFiring.id == firing.id, PlaybookFiring.status == FiringStatus.ACTING)
                .values(status=FiringStatus.DONE, finished_at=utcnow())
            )
            return
        await self._queue_action(session, following[0], firing_id=firing.id)

    async def _finish_wait(self, action: PlaybookAction, firing: PlaybookFiring) -> str:
        """A wait is due: stop here when the subject was settled meanwhile, else go on."""
        settled = await self._settled_status(firing.subject_id)
        async with self.db.transaction() as session:
            if settled is not None:
                cancelled = await cancel_open_actions(
                    session, firing_ids=[firing.id], reason=f"invoice {settled}"
                )
                await _audit_firing(
                    session,
                    firing,
                    action="playbook.cancelled",
                    subject=firing.subject_id,
                    actions=cancelled,
                    reason=f"invoice {settled}",
                )
                return "cancelled"
            row = await session.get(PlaybookAction, action.id)
            if row is None or row.status != Status.PENDING:
                return "already_done"
            row.status = Status.DONE
            row.result = f"waited {action.params.get('duration')}"
            row.version += 1
            await self._advance(session, firing, row)
        return "done"

    async def _settled_status(self, subject: str | None) -> str | None:
        if not subject or not subject.startswith("in_") or self.objects is None:
            return None
        try:
            invoice = await self.objects.retrieve_object("invoice", subject)
        except NotFoundError:
            return None
        status = str(invoice.get("status"))
        return status if status in SETTLED_INVOICE_STATUSES else None

    async def _request_approval(self, action: PlaybookAction, firing: PlaybookFiring) -> str:
        async with self.db.transaction() as session:
            result = await session.execute(
                update(PlaybookAction)
                .where(PlaybookAction.id == action.id, PlaybookAction.status == Status.PENDING)
                .values(
                    status=Status.AWAITING_APPROVAL,
                    version=PlaybookAction.version + 1,
                    updated_at=utcnow(),
                )
            )
            if rows_affected(result) != 1:
                return "already_requested"
            await _audit_firing(
                session,
                firing,
                action="playbook.approval_requested",
                event_id=firing.event_id,
                type=action.type,
                describe=action.params.get("describe"),
            )
            await self._queue_card(session, action.id)
        return "awaiting_approval"

    async def _queue_card(self, session: AsyncSession, action_id: int) -> None:
        await enqueue(
            session,
            kind=JobKind.PLAYBOOK_NOTIFY,
            payload={"call": "card", "action_id": action_id},
            serial_key=f"playbook_card:{action_id}",
        )

    async def _fail(
        self,
        action: PlaybookAction,
        firing: PlaybookFiring,
        error: str,
        *,
        status: Status = Status.FAILED,
    ) -> None:
        """The action failed for good: record it, stop the firing, tell a person in Slack."""
        async with self.db.transaction() as session:
            await session.execute(
                update(PlaybookAction)
                .where(PlaybookAction.id == action.id)
                .values(
                    status=status,
                    result=error[:2000],
                    version=PlaybookAction.version + 1,
                    updated_at=utcnow(),
                )
            )
            await cancel_open_actions(
                session, firing_ids=[firing.id], reason="an earlier action failed"
            )
            await session.execute(
                update(PlaybookFiring)
                .where(PlaybookFiring.id == firing.id)
                .values(status=FiringStatus.FAILED, finished_at=utcnow())
            )
            await _audit_firing(
                session,
                firing,
                action="playbook.action_failed",
                event_id=firing.event_id,
                type=action.type,
                status=str(status),
                error=error[:500],
            )
            await enqueue(
                session,
                kind=JobKind.PLAYBOOK_NOTIFY,
                payload={"call": "failure", "action_id": action.id, "error": error[:500]},
                dedupe_key=f"playbook_failure:{action.id}",
            )
        log.warning(
            "playbook action failed",
            extra={"rule": firing.rule_name, "action_id": action.id, "type": action.type},
        )

    async def _interrupted_email(self, action: PlaybookAction, firing: PlaybookFiring) -> str:
        """A crash while sending: the email may have left. Never resend; a person decides."""
        await self._fail(
            action,
            firing,
            "the worker stopped while this email was being sent: it may or may not have "
            "been delivered, so it is not sent again",
            status=Status.UNKNOWN,
        )
        return "unknown"

    async def _report_dry_run(self, firing: PlaybookFiring) -> str:
        """Dry-run: one message saying what the rule would have done."""
        async with self.db.transaction() as session:
            claimed = await session.execute(
                update(PlaybookFiring)
                .where(PlaybookFiring.id == firing.id, PlaybookFiring.finished_at.is_(None))
                .values(finished_at=utcnow())
            )
            if rows_affected(claimed) != 1:
                return "already_reported"
            actions = await actions_of(session, firing.id)
        lines = [
            self.config.escape_value(f"{a.position + 1}. would {a.params.get('describe', a.type)}")
            for a in actions
        ]
        head = self.config.escape_text(
            f"Dry run: rule “{firing.rule_name}” matched {firing.event_type} "
            f"({firing.subject_id or firing.event_id}) and would have:"
        )
        text = "\n".join([head, *lines])
        channel = self.config.channel("alerts")
        if self.notifier is not None and channel:
            await self.notifier.post_message(
                channel=channel,
                text=text,
                footer=f"Playbook “{firing.rule_name}” (v{firing.rule_version}) · dry-run",
            )
        return "dry_run_reported"

    # ---- approvals ----------------------------------------------------------------------

    async def decide(self, action_id: int, *, approve: bool, user: str) -> Decision:
        """Compare-and-set in a transaction of its own (see `decide_in`)."""
        async with self.db.transaction() as session:
            return await self.decide_in(session, action_id, approve=approve, user=user)

    async def decide_in(
        self, session: AsyncSession, action_id: int, *, approve: bool, user: str
    ) -> Decision:
        """The first decision wins; later clicks learn who decided. `user`: a Slack id."""
        action = await session.get(PlaybookAction, action_id)
        if action is None:
            return Decision(outcome="missing")
        new = Status.APPROVED if approve else Status.REJECTED
        result = await session.execute(
            update(PlaybookAction)
            .where(
                PlaybookAction.id == action_id, PlaybookAction.status == Status.AWAITING_APPROVAL
            )
            .values(
                status=new,
                decided_by=user,
                decided_at=utcnow(),
                version=PlaybookAction.version + 1,
                updated_at=utcnow(),
            )
        )
        if rows_affected(result) != 1:
            await session.refresh(action)
            return Decision(outcome="already", status=str(action.status), by=action.decided_by)
        await session.refresh(action)
        firing = await session.get(PlaybookFiring, action.firing_id)
        assert firing is not None
        await _audit_firing(
            session,
            firing,
            actor=f"slack:{user}",
            action="playbook.approved" if approve else "playbook.rejected",
            event_id=firing.event_id,
            type=action.type,
            describe=action.params.get("describe"),
        )
        if approve:
            await self._queue_action(session, action, firing_id=firing.id, step="approved")
        else:
            await cancel_open_actions(session, firing_ids=[firing.id], reason=f"rejected by {user}")
            await session.execute(
                update(PlaybookFiring)
                .where(PlaybookFiring.id == firing.id)
                .values(status=FiringStatus.CANCELLED, finished_at=utcnow())
            )
        await self._queue_card(session, action_id)
        return Decision(outcome="approved" if approve else "rejected", status=str(new), by=user)

    async def notify(self, payload: dict[str, Any]) -> None:
        """Job body of `playbook_notify`: an approval card, or a failure report."""
        if self.notifier is None:
            return
        if payload.get("call") == "overdue_card":
            await self.notifier.sync_overdue_card(action_id=int(payload["action_id"]))
        elif payload.get("call") == "overdue_digest":
            channel = self.config.channel("collections")
            if channel and payload.get("lines"):
                await self.notifier.post_overdue_digest(
                    channel=channel, lines=list(payload["lines"])
                )
        elif payload.get("call") == "failure":
            await self.notifier.report_failure(
                action_id=int(payload["action_id"]), error=str(payload.get("error", ""))
            )
        else:
            await self.notifier.sync_action_card(action_id=int(payload["action_id"]))


async def _audit_firing(
    session: AsyncSession,
    firing: PlaybookFiring,
    *,
    action: str,
    actor: str | None = None,
    **detail: Any,
) -> None:
    """One audit entry about a firing: its rule, version and customer; the rule acts unless told."""
    await audit.record(
        session,
        actor=actor or f"playbook:{firing.rule_name}",
        action=action,
        customer_id=firing.customer_id,
        rule=firing.rule_name,
        rule_version=firing.rule_version,
        **detail,
    )
