"""SQLAlchemy models: the tables are the design. Changed only through Alembic migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class JobStatus(StrEnum):
    """queued → running → succeeded | queued (retry) | dead; queued/running → cancelled."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    DEAD = "dead"
    CANCELLED = "cancelled"


class StripeEventRow(Base):
    """Every verified Stripe event, stored once (unique on Stripe's event id)."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100), index=True)
    object_id: Mapped[str | None] = mapped_column(String(255))
    stripe_created: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    result: Mapped[str | None] = mapped_column(String(50))
    processed_at: Mapped[datetime | None]


class Job(Base):
    """A durable unit of side-effecting work (see storage/queue.py)."""

    __tablename__ = "jobs"
    __table_args__ = (
        # Matches the claim's ORDER BY (storage/queue.py): one index range scan per priority.
        Index("ix_jobs_claim", "status", "priority", "run_at", "id"),
        Index("ix_jobs_serial_key_status", "serial_key", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    # Lower runs first (storage.queue.Priority); the server default keeps bulk inserts working.
    priority: Mapped[int] = mapped_column(SmallInteger, default=1, server_default=text("1"))
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    serial_key: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=8)
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_expires_at: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class CustomerRow(Base):
    """What we know of a Stripe customer, refreshed from Stripe, plus the cached LTV."""

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(500), index=True)
    locale: Mapped[str | None] = mapped_column(String(35))
    tier_override: Mapped[str | None] = mapped_column(String(20))
    deleted: Mapped[bool] = mapped_column(default=False)
    ltv_by_currency: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ltv_refreshed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CaseStatus(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    ESCALATED = "escalated"
    PAID = "paid"
    VOIDED = "voided"
    UNCOLLECTIBLE = "uncollectible"
    CLOSED = "closed"


OPEN_CASE_STATUSES = (CaseStatus.OPEN, CaseStatus.PAUSED, CaseStatus.ESCALATED)


class Case(Base):
    """One failed invoice being recovered, from first failure until paid or given up."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    invoice_id: Mapped[str] = mapped_column(String(255), unique=True)
    invoice_number: Mapped[str | None] = mapped_column(String(255))
    customer_id: Mapped[str] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(20), default=CaseStatus.OPEN, index=True)
    segment: Mapped[str | None] = mapped_column(String(20))
    segment_reasons: Mapped[list[Any]] = mapped_column(default=list)
    ltv_by_currency: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    currency: Mapped[str] = mapped_column(String(3))
    amount_due: Mapped[int] = mapped_column(BigInteger)
    amount_remaining: Mapped[int] = mapped_column(BigInteger)
    amount_recovered: Mapped[int] = mapped_column(BigInteger, default=0)
    attempt_count: Mapped[int] = mapped_column(default=0)
    next_payment_attempt: Mapped[datetime | None]
    due_date: Mapped[datetime | None]
    decline_category: Mapped[str | None] = mapped_column(String(40))
    decline_code: Mapped[str | None] = mapped_column(String(80))
    hosted_invoice_url: Mapped[str | None] = mapped_column(Text)
    customer_email: Mapped[str | None] = mapped_column(String(500))
    customer_name: Mapped[str | None] = mapped_column(String(500))
    locale: Mapped[str | None] = mapped_column(String(35))
    round: Mapped[int] = mapped_column(default=0)
    handled_attempt: Mapped[int] = mapped_column(default=0)
    emails_sent: Mapped[int] = mapped_column(default=0)
    last_email_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    resolved_at: Mapped[datetime | None]


class DraftStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    CANCELLED = "cancelled"


class Draft(Base):
    """A proposed email for one round of a case, awaiting a finance decision."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    round: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(20), default=DraftStatus.PENDING)
    version: Mapped[int] = mapped_column(default=1)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(100))
    prompt_version: Mapped[str] = mapped_column(String(40))
    fallback_reason: Mapped[str | None] = mapped_column(Text)
    guardrail_notes: Mapped[list[Any]] = mapped_column(default=list)
    edited_by: Mapped[str | None] = mapped_column(String(50))
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    cost_usd: Mapped[float] = mapped_column(default=0.0)
    decided_by: Mapped[str | None] = mapped_column(String(50))
    decided_at: Mapped[datetime | None]
    reject_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    DONE = "done"
    RESOLVED = "resolved"


class VipTask(Base):
    """An urgent task for an account manager instead of an automatic email."""

    __tablename__ = "vip_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=TaskStatus.OPEN)
    version: Mapped[int] = mapped_column(default=1)
    owner: Mapped[str | None] = mapped_column(String(50))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]


class Pause(Base):
    """A customer dunning is paused for, until `until` (None: until resumed)."""

    __tablename__ = "pauses"

    customer_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    until: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    paused_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxStatus(StrEnum):
    """approved → sending (lease) → sent | retrying | failed | unknown; or cancelled."""

    APPROVED = "approved"
    SENDING = "sending"
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"
    WAITING = "waiting"


class OutboxEmail(Base):
    """One approved email and where its delivery stands. Never blindly resent."""

    __tablename__ = "outbox_emails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.APPROVED)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    to_addr: Mapped[str | None] = mapped_column(String(500))
    subject: Mapped[str | None] = mapped_column(Text)
    text_body: Mapped[str | None] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # Who confirmed an email of unknown outcome did leave ("Mark as sent"); None otherwise.
    marked_sent_by: Mapped[str | None] = mapped_column(String(100))


class BatchStatus(StrEnum):
    """open (drafts may join until decided or its window ends) → approved | rejected."""

    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"


class ReviewBatch(Base):
    """Drafts of one kind from a burst, reviewed together in one Slack message.

    `version` grows by one with every draft that joins; a button names the version it showed,
    so a decision applies to exactly the drafts that version listed.
    """

    __tablename__ = "review_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_key: Mapped[str] = mapped_column(String(200), index=True)
    # The group key while drafts may still join; NULL once decided or closed (unique: one
    # joinable batch per group, whatever the concurrency).
    open_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    group: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=BatchStatus.OPEN, index=True)
    version: Mapped[int] = mapped_column(default=0)
    decided_version: Mapped[int | None]
    decided_by: Mapped[str | None] = mapped_column(String(50))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BatchMemberOutcome(StrEnum):
    """What the batch decision did to one draft (NULL until the fan-out reached it)."""

    APPROVED = "approved"
    REJECTED = "rejected"
    SKIPPED = "skipped"


class ReviewBatchDraft(Base):
    """One draft listed in a batch: the batch version it joined at and its own version then."""

    __tablename__ = "review_batch_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("review_batches.id"), index=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    joined_version: Mapped[int]
    draft_version: Mapped[int]
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlackMessage(Base):
    """Where a card was posted, so it can be updated in place with chat.update."""

    __tablename__ = "slack_messages"
    __table_args__ = (UniqueConstraint("card_kind", "subject_id", name="uq_slack_messages_card"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    card_kind: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    channel: Mapped[str] = mapped_column(String(50))
    ts: Mapped[str | None] = mapped_column(String(50))
    thread_ts: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AuditEntry(Base):
    """Every state change of a case or pause, with who or what did it."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    customer_id: Mapped[str | None] = mapped_column(String(255), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PlaybookRuleState(Base):
    """A person switched a playbook rule on or off (overrides `enabled` in the rules file)."""

    __tablename__ = "playbook_rule_states"

    rule_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    enabled: Mapped[bool]
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class FiringStatus(StrEnum):
    """acting → done | cancelled (subject settled) | failed; dry_run never acts."""

    ACTING = "acting"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"
    DRY_RUN = "dry_run"


class PlaybookFiring(Base):
    """A rule matched an event. Unique per (rule, event): each acts at most once."""

    __tablename__ = "playbook_firings"
    __table_args__ = (
        UniqueConstraint("rule_name", "event_id", name="uq_playbook_firings_rule_event"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_name: Mapped[str] = mapped_column(String(100))
    rule_version: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(100))
    subject_id: Mapped[str | None] = mapped_column(String(255), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(255), index=True)
    mode: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default=FiringStatus.ACTING)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]


class PlaybookActionStatus(StrEnum):
    """pending → (awaiting_approval → approved | rejected) → running → done | failed | unknown;
    pending/awaiting → cancelled when the subject is settled; dry_run only describes."""

    PENDING = "pending"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"
    DRY_RUN = "dry_run"


class PlaybookAction(Base):
    """One action of a firing, in order; a `wait` is an action with a due time."""

    __tablename__ = "playbook_actions"
    __table_args__ = (
        UniqueConstraint("firing_id", "position", name="uq_playbook_actions_firing_position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    firing_id: Mapped[int] = mapped_column(ForeignKey("playbook_firings.id"), index=True)
    position: Mapped[int]
    type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(24), default=PlaybookActionStatus.PENDING)
    version: Mapped[int] = mapped_column(default=1)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    needs_approval: Mapped[bool] = mapped_column(default=False)
    due_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(50))
    decided_at: Mapped[datetime | None]
    result: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InstanceRow(Base):
    """One row about the database itself: which mode uses it (`serve` or `demo`, so the demo
    never drains a production database) and the heartbeat `/healthz` writes."""

    __tablename__ = "instance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    mode: Mapped[str | None] = mapped_column(String(10))
    marked_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]


class SmsStatus(StrEnum):
    """approved → held (quiet hours) → sending → sent | retrying | failed | unknown; or
    skipped (no consent, number or opt-in) and cancelled (paid meanwhile)."""

    APPROVED = "approved"
    HELD = "held"
    SENDING = "sending"
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class OutboxSms(Base):
    """One approved SMS and where its delivery stands. Never blindly resent."""

    __tablename__ = "outbox_sms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=SmsStatus.APPROVED)
    to_phone: Mapped[str | None] = mapped_column(String(32), index=True)
    body: Mapped[str | None] = mapped_column(Text)
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    held_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class SmsOptOut(Base):
    """A number that replied STOP (and not START since): no SMS goes to it."""

    __tablename__ = "sms_opt_outs"

    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    keyword: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskDeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class TaskDelivery(Base):
    """A VIP task sent to one more target (Teams, an outbound webhook): once per task."""

    __tablename__ = "task_deliveries"
    __table_args__ = (UniqueConstraint("task_id", "target", name="uq_task_deliveries_target"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("vip_tasks.id"), index=True)
    target: Mapped[str] = mapped_column(String(30))
    message_id: Mapped[str] = mapped_column(String(64), unique=True)  # webhook-id, stable
    status: Mapped[str] = mapped_column(String(20), default=TaskDeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class CustomerProfile(Base):
    """A customer's computed facts and rule assignments (owner, dunning plan, exclusion).

    `facts` are the values the last computation stored; threshold crossings compare new
    values with them in the same transaction that replaces them (`version` is the
    compare-and-set), so a duplicate or late event never fires a crossing twice.
    """

    __tablename__ = "customer_profiles"

    customer_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fingerprint: Mapped[str | None] = mapped_column(String(64))  # facts + Stripe's customer
    segment: Mapped[str | None] = mapped_column(String(20))
    customer_since: Mapped[datetime | None]
    metadata_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    owner_rule: Mapped[str | None] = mapped_column(String(200))  # who decided the owners
    dunning_plan: Mapped[str | None] = mapped_column(String(100))
    plan_rule: Mapped[str | None] = mapped_column(String(200))
    excluded: Mapped[bool] = mapped_column(default=False)
    excluded_reason: Mapped[str | None] = mapped_column(String(1000))
    excluded_by: Mapped[str | None] = mapped_column(String(255))
    included_by: Mapped[str | None] = mapped_column(String(255))  # a person: rules keep off
    computed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerOwner(Base):
    """A Slack user who owns a customer (VIP tasks and overdue alerts mention them)."""

    __tablename__ = "customer_owners"

    customer_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    slack_user_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    assigned_by: Mapped[str] = mapped_column(String(255))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)


class RateLimitRow(Base):
    """A call rate shared by every process (e.g. the LLM's per-minute budget): one row per
    limit, locked while a call is admitted; `not_before` is a provider's 429 Retry-After."""

    __tablename__ = "rate_limits"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    not_before: Mapped[datetime | None]


class RateLimitCall(Base):
    """One call admitted under a shared rate limit, kept for one window."""

    __tablename__ = "rate_limit_calls"
    __table_args__ = (Index("ix_rate_limit_calls_name_at", "name", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


class CasePlanStatus(StrEnum):
    """retrying → grace → awaiting_approval (→ postponed → awaiting_approval …) → closing →
    closed; or rejected (a person kept the subscription), left_open (the plan closes nothing),
    stopped (the invoice was paid, voided or marked uncollectible elsewhere)."""

    RETRYING = "retrying"
    GRACE = "grace"
    AWAITING_APPROVAL = "awaiting_approval"
    POSTPONED = "postponed"
    CLOSING = "closing"
    CLOSED = "closed"
    REJECTED = "rejected"
    LEFT_OPEN = "left_open"
    STOPPED = "stopped"


class CasePlan(Base):
    """A case on a dunning plan that retries: where it is in the plan, and the close-out."""

    __tablename__ = "case_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    invoice_id: Mapped[str] = mapped_column(String(255), unique=True)
    customer_id: Mapped[str] = mapped_column(String(255), index=True)
    plan_name: Mapped[str] = mapped_column(String(100))
    assigned_by: Mapped[str] = mapped_column(String(300))  # the rule (or customer rule) that chose
    subscription_id: Mapped[str | None] = mapped_column(String(255))
    retries_total: Mapped[int] = mapped_column(Integer)
    retries_done: Mapped[int] = mapped_column(Integer, default=0)
    last_retry_at: Mapped[datetime | None]
    last_decline_code: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(24), default=CasePlanStatus.RETRYING)
    version: Mapped[int] = mapped_column(Integer, default=1)  # compare-and-set of decisions
    closeout_round: Mapped[int] = mapped_column(Integer, default=0)  # card shown, postponed
    closeout_at: Mapped[datetime | None]  # when the close-out is (or was) due
    decided_by: Mapped[str | None] = mapped_column(String(50))
    decided_at: Mapped[datetime | None]
    closed_steps: Mapped[list[Any]] = mapped_column(JSON, default=list)
    result: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
