"""Composition of the playbook runner: adapters, settings, job handlers, Slack listeners."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from bot.playbooks.slack_text import escape_template_text, escape_value
from bot.runtime import SlackParts
from bot.settings import Settings
from recovery.jobkinds import JobKind
from recovery.playbooks.ports import OverdueInvoices, PlaybookConfig
from recovery.playbooks.rules import Playbook
from recovery.playbooks.runner import SETTLING_EVENT_TYPES, PlaybookRunner
from recovery.protocols import Mailer
from storage.db import Database
from storage.queue import ClaimedJob
from storage.worker import JobHandler


def playbook_event_types(playbook: Playbook) -> frozenset[str]:
    """Event types that need an evaluation job: triggers, and settlements when a rule waits."""
    waits = any(a.type == "wait" for r in playbook.rules for a in r.actions)
    return playbook.event_types | (SETTLING_EVENT_TYPES if waits else frozenset())


def playbook_config(settings: Settings) -> PlaybookConfig:
    return PlaybookConfig(
        dry_run=settings.playbooks_dry_run,
        team_email=settings.team_email,
        channels={
            "alerts": settings.alerts_channel,
            "collections": settings.collections_channel,
            "approvals": settings.slack_approvals_channel,
        },
        email_from=settings.email_from,
        company_name=settings.company_name,
        cancellation_survey_url=settings.cancellation_survey_url,
        escape_value=escape_value,
        escape_text=escape_template_text,
    )


def build_playbook_runner(
    settings: Settings,
    *,
    db: Database,
    playbook: Playbook,
    billing: Any,
    mailer: Mailer | None,
    slack: SlackParts | None,
) -> PlaybookRunner:
    """The runner over the configured adapters (Stripe reads and writes, mail, Slack)."""
    from bot.playbooks.loading import key_is_read_only

    notifier = None
    if slack is not None:
        from bot.playbooks.slack_cards import PlaybookSlack

        notifier = PlaybookSlack(db=db, client=slack.client, alerts_channel=settings.alerts_channel)
    objects = billing if hasattr(billing, "retrieve_object") else None
    can_write = hasattr(billing, "refund_charge") and not key_is_read_only(settings)
    return PlaybookRunner(
        db=db,
        playbook=playbook,
        objects=objects,
        writer=billing if can_write else None,
        mailer=mailer,
        notifier=notifier,
        config=playbook_config(settings),
    )


def playbook_job_handlers(runner: PlaybookRunner) -> dict[JobKind, JobHandler]:
    """Handlers of the playbook job kinds."""

    async def evaluate(job: ClaimedJob) -> None:
        if "event" in job.payload:
            await runner.evaluate(dict(job.payload["event"]))
        else:
            await runner.evaluate_stored_event(str(job.payload["event_id"]))

    async def act(job: ClaimedJob) -> None:
        await runner.run_action(
            int(job.payload["action_id"]), final_attempt=job.attempts >= job.max_attempts
        )

    async def notify(job: ClaimedJob) -> None:
        await runner.notify(job.payload)

    async def sweep(job: ClaimedJob) -> None:
        from recovery.playbooks.sweep import run_overdue_sweep

        lister = runner.objects
        if not hasattr(lister, "list_overdue_invoices"):
            return  # no Stripe configured: nothing to sweep
        await run_overdue_sweep(
            runner, cast(OverdueInvoices, lister), day=date.fromisoformat(job.payload["day"])
        )

    return {
        JobKind.EVALUATE_PLAYBOOKS: evaluate,
        JobKind.PLAYBOOK_ACTION: act,
        JobKind.PLAYBOOK_NOTIFY: notify,
        JobKind.OVERDUE_SWEEP: sweep,
    }


async def start_playbook_schedules(runner: PlaybookRunner | None) -> None:
    """At start-up: queue today's overdue sweep (once per day, whoever starts first)."""
    if runner is None:
        return
    from recovery.playbooks.sweep import schedule_overdue_sweep

    await schedule_overdue_sweep(runner)


def register_playbook_slack(
    runner: PlaybookRunner, *, slack: SlackParts, settings: Settings
) -> None:
    from bot.playbooks.slack_handlers import register_playbook_listeners

    register_playbook_listeners(
        slack.bolt,
        runner=runner,
        finance_approvers=frozenset(settings.finance_approvers),
        account_managers=frozenset(settings.account_managers),
    )
