"""Dead jobs told to a person: what died (the event or invoice), why in plain words, and a
retry that runs it again once, from Slack or `dunbot jobs retry ID`.

The queue enqueues a `job_died` job in the transaction that marks a job dead
(storage/queue.py); its handler here posts the alert (Slack) or, without Slack, logs it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from recovery import audit
from storage.db import Database
from storage.models import Case, Draft, Job, OutboxEmail, StripeEventRow, VipTask
from storage.queue import ClaimedJob, retry_dead
from storage.worker import JobHandler

log = logging.getLogger("dunbot.jobs")

# The class at the start of a stored error → what it means, for someone who is not a developer.
_PLAIN_REASONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("CharacterNotInRepertoire", "invalid byte sequence", "StringDataRightTruncation"),
        "it holds text the database cannot store (a NUL character, or a value too long)",
    ),
    (("KeyError",), "a field it needs is missing from the data"),
    (("TypeError",), "a value is missing or of the wrong kind (for example an id that is null)"),
    (("ValidationError", "ValueError"), "a value is not in the expected form"),
    (("NotFoundError",), "Stripe has no such object (any more)"),
    (("BillingAuthError",), "Stripe refused the API key (check STRIPE_API_KEY)"),
    (("BillingError",), "Stripe could not be read"),
    (("IntegrityError",), "the database refused it (a duplicate or a missing record)"),
    (("DataError",), "the database cannot store one of its values"),
    (("SlackApiError",), "Slack refused the request"),
    (("SMTP",), "the mail server refused the message"),
    (("TimeoutError",), "it took too long every time"),
)


@dataclass(frozen=True, slots=True)
class DeadJobView:
    """A dead (or retried) job as a person reads it."""

    job_id: int
    kind: str
    subject: str  # "Stripe event evt_… (invoice.payment_failed), invoice in_…", or "job #12"
    reason: str  # plain words
    error: str  # the stored error: class and sanitised message
    attempts: int
    max_attempts: int
    status: str


@dataclass(frozen=True, slots=True)
class RetryOutcome:
    ok: bool
    message: str


def plain_reason(error: str | None) -> str:
    """Why a job failed, in words; the technical error is shown beside it."""
    if not error:
        return "it failed without an error message"
    if error.startswith("PermanentJobError:"):
        return error.split(":", 1)[1].strip() or "retrying cannot help"
    head = error.split(":", 1)[0]
    for markers, words in _PLAIN_REASONS:
        if any(marker in head or marker in error for marker in markers):
            return words
    return "it failed with an unexpected error"


async def _invoice_of(session: AsyncSession, payload: dict[str, Any]) -> str | None:
    """The invoice a job is about, from the ids its payload carries."""
    case_id = payload.get("case_id")
    if case_id is None and isinstance(payload.get("outbox_id"), int):
        outbox = await session.get(OutboxEmail, payload["outbox_id"])
        case_id = outbox.case_id if outbox else None
    if case_id is None and isinstance(payload.get("draft_id"), int):
        draft = await session.get(Draft, payload["draft_id"])
        case_id = draft.case_id if draft else None
    if case_id is None and isinstance(payload.get("task_id"), int):
        task = await session.get(VipTask, payload["task_id"])
        case_id = task.case_id if task else None
    if not isinstance(case_id, int):
        return None
    case = await session.get(Case, case_id)
    return case.invoice_id if case else None


async def _subject(session: AsyncSession, job: Job) -> str:
    payload = job.payload if isinstance(job.payload, dict) else {}
    event_id = payload.get("event_id")
    if isinstance(event_id, str):
        event = await session.get(StripeEventRow, event_id)
        if event is None:
            return f"Stripe event {event_id}"
        about = f", {event.object_id}" if event.object_id else ""
        return f"Stripe event {event_id} ({event.type}{about})"
    invoice = await _invoice_of(session, payload)
    if invoice is None and job.serial_key and job.serial_key.startswith("invoice:"):
        invoice = job.serial_key.removeprefix("invoice:")
    return f"invoice {invoice}" if invoice else f"job #{job.id}"


async def dead_job_view(session: AsyncSession, job_id: int) -> DeadJobView | None:
    """The job as a person reads it; None when there is no such job."""
    job = await session.get(Job, job_id)
    if job is None:
        return None
    return DeadJobView(
        job_id=job.id,
        kind=job.kind,
        subject=await _subject(session, job),
        reason=plain_reason(job.last_error),
        error=job.last_error or "",
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        status=job.status,
    )


async def retry_job(session: AsyncSession, *, job_id: int, actor: str) -> RetryOutcome:
    """Run a dead job again (once, however often asked), audited, in the caller's transaction."""
    if not await retry_dead(session, job_id=job_id):
        job = await session.get(Job, job_id)
        if job is None:
            return RetryOutcome(False, f"There is no job #{job_id}.")
        return RetryOutcome(
            False, f"Nothing changed: job #{job_id} is not dead (it is {job.status})."
        )
    await audit.record(session, actor=actor, action="job_retried", job_id=job_id)
    return RetryOutcome(True, f"Job #{job_id} is queued to run again.")


def log_job_died_handler(db: Database) -> JobHandler:
    """Without Slack: the death goes to the log at ERROR, for whoever watches it."""

    async def job_died(job: ClaimedJob) -> None:
        async with db.sessions() as session:
            view = await dead_job_view(session, int(job.payload["job_id"]))
        if view is None:
            return
        log.error(
            "job died: %s: %s (`dunbot jobs retry %s` runs it again)",
            view.subject,
            view.reason,
            view.job_id,
            extra={"job_id": view.job_id, "kind": view.kind, "error": view.error},
        )

    return job_died
