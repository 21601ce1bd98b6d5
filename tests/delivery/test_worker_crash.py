"""`kill -9` of a sending worker: before the SMTP transaction the email goes out exactly once
after restart; during it, the outcome is `unknown` and nothing is resent until a person says so.

Workers run as real processes (tests.support.delivery_worker_child) with a 1 s lease; the
SMTP server and the fake Stripe belong to this test. Waits poll the database (or the
servers' records) with a timeout, never a fixed sleep.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.slack.actors import slack_actor
from recovery import decisions
from storage.models import JobStatus, OutboxStatus
from tests.delivery.conftest import DeliveryHarness
from tests.fakes.smtp_server import HANG
from tests.support.worker_processes import WorkerProcesses, audit_logged, worker_processes

pytestmark = pytest.mark.slow

LEASE_S = 1.0


@pytest.fixture
def workers(database_url: str, dh: DeliveryHarness, tmp_path: Path) -> Iterator[WorkerProcesses]:
    async def send_jobs() -> str:
        jobs = [(j.status, j.attempts, j.last_error) for j in await dh.jobs("send_email")]
        return f"send jobs: {jobs}"

    args = ["--url", database_url, "--stripe-base", dh.stripe.base_url]
    args += ["--smtp-port", str(dh.smtp.port), "--lease", str(LEASE_S)]
    with worker_processes(
        "tests.support.delivery_worker_child", args, tmp_path, details=send_jobs
    ) as spawned:
        yield spawned


async def outbox_status_is(dh: DeliveryHarness, status: str) -> bool:
    return (await dh.outbox()).status == status


async def test_worker_killed_before_smtp_sends_once_after_restart(
    dh: DeliveryHarness, workers: WorkerProcesses
) -> None:
    draft = await dh.pending_draft()
    assert (await dh.approve(draft)).ok
    # Worker A gets as far as re-reading the invoice from Stripe, and is stuck there.
    held = dh.stripe.hold("/v1/invoices/in_std")
    workers.start("worker-a")
    await workers.wait_until(held.arrived.is_set, what="worker-a to re-fetch the invoice")
    [job] = await dh.jobs("send_email")
    assert job.status == JobStatus.RUNNING and job.locked_by == "worker-a"
    outbox = await dh.outbox()
    assert outbox.status == OutboxStatus.APPROVED and outbox.attempts == 0
    assert dh.smtp.connection_count == 0

    workers.kill("worker-a")
    dh.stripe.release(held)
    workers.start("worker-b")
    await workers.wait_until(
        lambda: outbox_status_is(dh, OutboxStatus.SENT), what="worker-b to send the email"
    )
    await dh.smtp.wait_for_messages(1)
    # The outbox row says sent before the job is recorded done: a graceful stop lets it finish.
    assert workers.stop("worker-b") == 0, workers.logs()

    assert len(dh.smtp.messages) == 1 and dh.smtp.commands.count("DATA") == 1
    outbox = await dh.outbox()
    assert outbox.attempts == 1 and dh.smtp.messages[0].message["Message-ID"] == outbox.message_id
    [job] = await dh.jobs("send_email")
    assert job.status == JobStatus.SUCCEEDED and job.locked_by == "worker-b"
    assert job.attempts == 2  # the killed run counted, its lease expired, B took over
    assert (await dh.case()).emails_sent == 1
    await dh.run_jobs()  # the card updates; nothing more goes out
    assert len(dh.smtp.messages) == 1 and dh.smtp.connection_count == 1


async def test_worker_killed_mid_transaction_is_unknown_and_never_resent(
    dh: DeliveryHarness, workers: WorkerProcesses
) -> None:
    draft = await dh.pending_draft()
    assert (await dh.approve(draft)).ok
    dh.smtp.script("DATA", HANG)  # the server takes the message and never answers
    workers.start("worker-a")
    await workers.wait_until(lambda: len(dh.smtp.unanswered) == 1, what="the message content")
    outbox = await dh.outbox()
    assert outbox.status == OutboxStatus.SENDING and outbox.attempts == 1

    workers.kill("worker-a")
    workers.start("worker-b")
    await workers.wait_until(
        lambda: audit_logged(dh.db, "worker_ready", actor="worker-b"), what="worker-b to start"
    )
    await workers.wait_until(
        lambda: outbox_status_is(dh, OutboxStatus.UNKNOWN), what="worker-b to find it unknown"
    )
    [job] = await dh.jobs("send_email")
    await workers.wait_until(
        lambda: _job_status_is(dh, job.id, JobStatus.SUCCEEDED), what="the job to finish"
    )
    assert workers.stop("worker-b") == 0, workers.logs()
    assert dh.smtp.messages == [] and dh.smtp.commands.count("DATA") == 1
    outbox = await dh.outbox()
    assert "mid-transaction" in (outbox.last_error or "") and outbox.attempts == 1
    await dh.run_jobs()  # cards only: still one DATA at the server
    assert dh.smtp.commands.count("DATA") == 1
    assert ("sync_approval_card", draft.id) in dh.notifier.calls

    async with dh.db.transaction() as session:  # a person checked the mail log: send again
        assert (
            await decisions.retry_unknown_email(
                session, outbox_id=outbox.id, actor=slack_actor("UFIN")
            )
        ).ok
    await dh.run_jobs()
    assert len(dh.smtp.messages) == 1 and dh.smtp.commands.count("DATA") == 2
    outbox = await dh.outbox()
    assert outbox.status == OutboxStatus.SENT and outbox.attempts == 2


async def _job_status_is(dh: DeliveryHarness, job_id: int, status: str) -> bool:
    return any(j.id == job_id and j.status == status for j in await dh.jobs("send_email"))
