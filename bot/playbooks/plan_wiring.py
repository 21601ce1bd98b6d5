"""Composition of the dunning plans: the plan service over the configured Stripe adapter, its
job handlers, and the close-out card's Slack listeners."""

from __future__ import annotations

from typing import Any, cast

from bot.runtime import Runtime, SlackParts
from bot.settings import Settings
from recovery.cases import CaseEngine
from recovery.jobkinds import JobKind
from recovery.plans.ports import PlanBilling, PlanNotifier
from recovery.plans.service import PlanService
from recovery.playbooks.ports import StripeObjects
from recovery.playbooks.rules import Playbook
from recovery.playbooks.runner import PlaybookRunner
from recovery.protocols import BillingReader
from storage.db import Database
from storage.queue import ClaimedJob
from storage.worker import JobHandler

PLAN_BILLING_METHODS = ("pay_invoice", "cancel_subscription", "mark_invoice_uncollectible")


def plan_billing(settings: Settings, billing: Any) -> PlanBilling | None:
    """The billing adapter when it may write (not STRIPE_READ_ONLY) and can pay invoices."""
    from bot.playbooks.loading import key_is_read_only

    if key_is_read_only(settings) or not all(hasattr(billing, m) for m in PLAN_BILLING_METHODS):
        return None
    return cast(PlanBilling, billing)


def build_plan_service(
    settings: Settings,
    *,
    db: Database,
    playbook: Playbook,
    reader: BillingReader,
    cases: CaseEngine,
    runner: PlaybookRunner | None,
) -> PlanService:
    """The plan service; plan rules read the invoice's objects the way playbook rules do."""
    return PlanService(
        db=db,
        playbook=playbook,
        reader=reader,
        billing=plan_billing(settings, reader),
        cases=cases,
        objects=cast(StripeObjects, reader) if hasattr(reader, "retrieve_object") else None,
        read_facts=runner.prepare_facts if runner is not None else None,
    )


def plan_job_handlers(
    service: PlanService, *, notifier: PlanNotifier | None
) -> dict[JobKind, JobHandler]:
    """Handlers of the plan job kinds."""

    async def start(job: ClaimedJob) -> None:
        await service.start(int(job.payload["case_id"]))

    async def retry(job: ClaimedJob) -> None:
        if "card_change" in job.payload:
            await service.card_change_retry(
                int(job.payload["plan_id"]), number=int(job.payload["card_change"])
            )
            return
        await service.retry(
            int(job.payload["plan_id"]), retry=int(job.payload["retry"]), job_id=job.id
        )

    async def card_updated(job: ClaimedJob) -> None:
        await service.card_updated(
            str(job.payload["customer_id"]), cause=str(job.payload.get("event_id", ""))
        )

    async def closeout(job: ClaimedJob) -> None:
        await service.closeout(int(job.payload["plan_id"]), round_no=int(job.payload["round"]))

    async def close_step(job: ClaimedJob) -> None:
        await service.close_step(
            int(job.payload["plan_id"]),
            steps=[str(s) for s in job.payload["steps"]],
            index=int(job.payload["index"]),
        )

    async def notify(job: ClaimedJob) -> None:
        if notifier is not None:
            await notifier.sync_closeout_card(plan_id=int(job.payload["plan_id"]))

    return {
        JobKind.PLAN_START: start,
        JobKind.PLAN_RETRY: retry,
        JobKind.PLAN_CARD_UPDATED: card_updated,
        JobKind.PLAN_CLOSEOUT: closeout,
        JobKind.PLAN_CLOSE_STEP: close_step,
        JobKind.PLAN_NOTIFY: notify,
    }


def register_plan_slack(service: PlanService, *, slack: SlackParts, settings: Settings) -> None:
    """The close-out card's Approve / Postpone / Reject buttons (finance approvers only)."""
    from bot.playbooks.plan_handlers import register_plan_listeners

    register_plan_listeners(
        slack.bolt, service=service, finance_approvers=frozenset(settings.finance_approvers)
    )


def plan_notifier(runtime: Runtime) -> PlanNotifier | None:
    """The close-out cards in the approvals channel, when Slack is configured."""
    if runtime.slack is None:
        return None
    from bot.playbooks.plan_cards import PlanSlack

    settings = runtime.settings
    return PlanSlack(
        db=runtime.db,
        client=runtime.slack.client,
        channel=settings.slack_approvals_channel or settings.alerts_channel,
        playbook=runtime.playbook,
    )
