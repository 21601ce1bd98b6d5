"""Names of every job dunbot runs, and the keys that dedupe and serialise them.

One enum for all kinds (the recovery engine's and the Slack adapter's), so the handlers are
registered in one place (`bot.wiring.job_handlers`) and a kind without a handler shows up there.
"""

from __future__ import annotations

from enum import StrEnum

from storage.queue import Priority


class JobKind(StrEnum):
    """The `kind` of a queued job; each has exactly one handler."""

    PROCESS_STRIPE_EVENT = "process_stripe_event"
    REEVALUATE_CASE = "reevaluate_case"
    DRAFT_EMAIL = "draft_email"
    SEND_EMAIL = "send_email"
    NOTIFY = "notify"
    VIP_CLAIM_REMINDER = "vip_claim_reminder"
    PAUSE_EXPIRED = "pause_expired"
    SEND_SMS = "send_sms"
    BATCH_DECISION = "batch_decision"  # Approve all / Reject all fanned out (recovery.batches)
    DELIVER_TASK = "deliver_task"  # a VIP task to Teams or the outbound task webhook
    # Slack-side work (ephemeral replies, the App Home, /dunning look-ups): bot/slack/jobs.py.
    # Playbooks (recovery/playbooks/runner.py): evaluate an event, run an action, show a card.
    EVALUATE_PLAYBOOKS = "evaluate_playbooks"
    PLAYBOOK_ACTION = "playbook_action"
    PLAYBOOK_NOTIFY = "playbook_notify"
    OVERDUE_SWEEP = "overdue_sweep"  # daily: open invoices past due → invoice.overdue rules
    # Customer facts and rules (recovery/customers/): recompute a customer's facts.
    REFRESH_CUSTOMER = "refresh_customer"
    CUSTOMER_ACTION = "customer_action"  # resolve an owner's email, send a notification
    # Dunning plans (recovery/plans/): choose a case's plan, retry the payment, close out.
    PLAN_START = "plan_start"
    PLAN_RETRY = "plan_retry"
    PLAN_CARD_UPDATED = "plan_card_updated"  # the customer changed their card: retry now
    PLAN_CLOSEOUT = "plan_closeout"  # after the last retry and the grace: card or writes
    PLAN_CLOSE_STEP = "plan_close_step"  # one closing write in Stripe
    PLAN_NOTIFY = "plan_notify"  # post or update the close-out card
    SLACK_EPHEMERAL = "slack_ephemeral"
    SLACK_PUBLISH_HOME = "slack_publish_home"
    SLACK_COMMAND = "slack_command"
    SLACK_DEAD_JOB_CARD = "slack_dead_job_card"  # the dead-job alert, updated after a retry
    # Enqueued by the queue itself when a job dies (storage.queue.JOB_DIED): tell a person.
    JOB_DIED = "job_died"


# Kinds the Slack adapter handles; they are queued only when Slack is configured.
SLACK_JOB_KINDS = frozenset(
    {
        JobKind.SLACK_EPHEMERAL,
        JobKind.SLACK_PUBLISH_HOME,
        JobKind.SLACK_COMMAND,
        JobKind.SLACK_DEAD_JOB_CARD,
    }
)


# The queue's priority of each kind (lower is claimed first; NORMAL when not listed): work
# that lets a person act sooner goes ahead of bookkeeping. Cards, tasks and click replies go
# first; drafting runs with event processing, since a stored draft is what a person reviews;
# recomputing customer facts and choosing a dunning plan (whose first retry is days away) wait
# until a burst's drafts are out.
KIND_PRIORITY: dict[JobKind, Priority] = {
    JobKind.NOTIFY: Priority.PERSON_WAITING,
    JobKind.PLAN_NOTIFY: Priority.PERSON_WAITING,
    JobKind.SLACK_EPHEMERAL: Priority.PERSON_WAITING,
    JobKind.SLACK_PUBLISH_HOME: Priority.PERSON_WAITING,
    JobKind.SLACK_COMMAND: Priority.PERSON_WAITING,
    JobKind.DRAFT_EMAIL: Priority.NORMAL,
    JobKind.REFRESH_CUSTOMER: Priority.BACKGROUND,
    JobKind.PLAN_START: Priority.BACKGROUND,
}


def priority_of(kind: JobKind) -> Priority:
    """The priority a job of this kind is queued with."""
    return KIND_PRIORITY.get(kind, Priority.NORMAL)


# Work that becomes pointless once an invoice is settled; cancelled with the case.
CASE_WORK_KINDS = (
    JobKind.REEVALUATE_CASE,
    JobKind.DRAFT_EMAIL,
    JobKind.SEND_EMAIL,
    JobKind.SEND_SMS,
    JobKind.VIP_CLAIM_REMINDER,
    JobKind.PLAN_RETRY,
    JobKind.PLAN_CLOSEOUT,
)


def invoice_serial_key(invoice_id: str) -> str:
    """Jobs of one invoice never run at the same time."""
    return f"invoice:{invoice_id}"


def customer_serial_key(customer_id: str) -> str:
    return f"customer:{customer_id}"
