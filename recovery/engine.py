"""The recovery engine assembled from its parts, and the job handlers it provides."""

from __future__ import annotations

from recovery.batches import run_batch_decision
from recovery.cases import CaseEngine
from recovery.config import RecoveryConfig
from recovery.delivery import DeliveryService
from recovery.domain import AttemptStage
from recovery.events import EventProcessor
from recovery.jobkinds import JobKind
from recovery.notify import NotifyCall, enqueue_notify, run_notify
from recovery.pauses import expire_pause
from recovery.proposals import ProposalService
from recovery.protocols import Billing, Drafter, Mailer, Notifier, PayLinks, SmsSender, TaskTargets
from recovery.sms_delivery import SmsDeliveryService
from recovery.task_delivery import TaskDeliveryService
from storage.db import Database
from storage.models import TaskStatus, VipTask, utcnow
from storage.queue import ClaimedJob
from storage.worker import JobHandler


class RecoveryEngine:
    """Wires the domain services to one database and the outside world's adapters."""

    def __init__(
        self,
        *,
        db: Database,
        billing: Billing,
        drafter: Drafter,
        mailer: Mailer,
        notifier: Notifier | None,
        config: RecoveryConfig,
        pay_links: PayLinks | None = None,
        sms_sender: SmsSender | None = None,
        task_targets: TaskTargets | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.notifier = notifier
        self.cases = CaseEngine(db=db, billing=billing, config=config)
        self.events = EventProcessor(
            db=db,
            cases=self.cases,
            playbook_event_types=config.playbook_event_types,
            refresh_customer_facts=config.refresh_customer_facts,
            dunning_plans=config.dunning_plans,
        )
        self.proposals = ProposalService(db=db, drafter=drafter, config=config)
        self.delivery = DeliveryService(
            db=db, billing=billing, mailer=mailer, config=config, pay_links=pay_links
        )
        self.task_deliveries = TaskDeliveryService(db=db, targets=task_targets)
        self.sms = SmsDeliveryService(
            db=db, billing=billing, sender=sms_sender, config=config, pay_links=pay_links
        )

    def job_handlers(self) -> dict[JobKind, JobHandler]:
        """Handlers by job kind, for storage.worker.Worker."""
        return {
            JobKind.PROCESS_STRIPE_EVENT: self._process_event,
            JobKind.REEVALUATE_CASE: self._reevaluate,
            JobKind.DRAFT_EMAIL: self._draft,
            JobKind.SEND_EMAIL: self._send,
            JobKind.SEND_SMS: self._send_sms,
            JobKind.DELIVER_TASK: self._deliver_task,
            JobKind.NOTIFY: self._notify,
            JobKind.BATCH_DECISION: self._batch_decision,
            JobKind.VIP_CLAIM_REMINDER: self._vip_reminder,
            JobKind.PAUSE_EXPIRED: self._pause_expired,
        }

    async def _process_event(self, job: ClaimedJob) -> None:
        await self.events.process(job.payload["event_id"])

    async def _reevaluate(self, job: ClaimedJob) -> None:
        await self.cases.reevaluate(job.payload["case_id"], actor=job.payload.get("by", "system"))

    async def _draft(self, job: ClaimedJob) -> None:
        payload = job.payload
        await self.proposals.draft_for_case(
            payload["case_id"],
            round_no=payload["round"],
            instruction=payload.get("instruction"),
            previous_body=payload.get("previous_body"),
            actor=payload.get("actor", "system:drafter"),
            stage=AttemptStage(payload["stage"]) if payload.get("stage") else None,
            will_retry=payload.get("will_retry"),
        )

    async def _send(self, job: ClaimedJob) -> None:
        await self.delivery.send(
            job.payload["outbox_id"], final_attempt=job.attempts >= job.max_attempts
        )

    async def _send_sms(self, job: ClaimedJob) -> None:
        await self.sms.send(job.payload["sms_id"], final_attempt=job.attempts >= job.max_attempts)

    async def _deliver_task(self, job: ClaimedJob) -> None:
        await self.task_deliveries.deliver(
            job.payload["delivery_id"], final_attempt=job.attempts >= job.max_attempts
        )

    async def _batch_decision(self, job: ClaimedJob) -> None:
        await run_batch_decision(
            self.db,
            batch_id=job.payload["batch_id"],
            channels=frozenset(job.payload.get("channels") or ["email"]),
        )

    async def _notify(self, job: ClaimedJob) -> None:
        if self.notifier is not None:
            await run_notify(self.notifier, job.payload)

    async def _vip_reminder(self, job: ClaimedJob) -> None:
        """Still unclaimed after the SLA: remind the account managers in the card's thread."""
        async with self.db.transaction() as session:
            task = await session.get(VipTask, job.payload["task_id"])
            if task is None or task.status != TaskStatus.OPEN or task.reminded_at is not None:
                return
            task.reminded_at = utcnow()
            await enqueue_notify(
                session, NotifyCall.REMIND_VIP_TASK, task_id=task.id, dedupe_key=f"remind:{task.id}"
            )

    async def _pause_expired(self, job: ClaimedJob) -> None:
        async with self.db.transaction() as session:
            await expire_pause(
                session, customer_id=job.payload["customer_id"], until=job.payload["until"]
            )
