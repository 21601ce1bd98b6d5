"""`kill -9` of a worker sending an SMS: before the row is `sending` the SMS goes out exactly
once after restart; after Twilio took the message but before the record, it is `unknown` and
nothing is resent.

Workers run as real processes (tests.support.sms_worker_child, clock pinned to daytime,
1 s lease) against the fake Stripe and fake Twilio of the `sms` harness, whose own worker does
not run `send_sms`. Waits poll the database or the fakes with a timeout, never a fixed sleep.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from recovery.jobkinds import JobKind
from storage.models import JobStatus, SmsStatus
from tests.sms.conftest import PHONE, SmsHarness
from tests.support.worker_processes import WorkerProcesses, worker_processes

pytestmark = pytest.mark.slow

LEASE_S = 1.0


@pytest.fixture
def workers(database_url: str, sms: SmsHarness, tmp_path: Path) -> Iterator[WorkerProcesses]:
    sms.app.worker.handlers.pop(JobKind.SEND_SMS)  # only the child processes send SMS
    args = ["--url", database_url, "--stripe-base", sms.app.stripe.base_url]
    args += ["--twilio-base", sms.twilio.base_url, "--lease", str(LEASE_S)]
    with worker_processes("tests.support.sms_worker_child", args, tmp_path) as spawned:
        yield spawned


async def sms_status_is(sms: SmsHarness, status: SmsStatus) -> bool:
    return [row.status for row in await sms.sms_rows()] == [status]


async def sms_job_is(sms: SmsHarness, status: JobStatus) -> bool:
    return [job.status for job in await sms.sms_jobs()] == [status]


async def test_worker_killed_before_sending_sends_once_after_restart(
    sms: SmsHarness, workers: WorkerProcesses
) -> None:
    sms.customer()
    await sms.fail_and_approve()
    # Worker A gets as far as re-reading the invoice from Stripe, and is stuck there.
    held = sms.app.stripe.hold("/v1/invoices/in_sms")
    workers.start("worker-a")
    await workers.wait_until(held.arrived.is_set, what="worker-a to re-fetch the invoice")
    [job] = await sms.sms_jobs()
    assert job.status == JobStatus.RUNNING and job.locked_by == "worker-a"
    [row] = await sms.sms_rows()
    assert row.status == SmsStatus.APPROVED and row.attempts == 0
    assert sms.twilio.attempts == 0

    workers.kill("worker-a")
    sms.app.stripe.release(held)
    workers.start("worker-b")
    await workers.wait_until(lambda: sms_status_is(sms, SmsStatus.SENT), what="the SMS sent")
    assert workers.stop("worker-b") == 0, workers.logs()

    [message] = sms.twilio.messages
    [row] = await sms.sms_rows()
    assert message.to == PHONE and sms.twilio.attempts == 1
    assert (row.twilio_sid, row.attempts) == (message.sid, 1)
    [job] = await sms.sms_jobs()
    assert job.status == JobStatus.SUCCEEDED and job.locked_by == "worker-b"
    assert job.attempts == 2  # the killed run counted, its lease expired, B took over


async def test_worker_killed_after_twilio_accepted_is_unknown_never_resent(
    sms: SmsHarness, workers: WorkerProcesses
) -> None:
    sms.customer()
    await sms.fail_and_approve()
    sms.twilio.hang_after_create()  # Twilio stores the message and never answers
    workers.start("worker-a")
    await workers.wait_until(sms.twilio.hung.is_set, what="Twilio to take the message")
    [row] = await sms.sms_rows()
    assert row.status == SmsStatus.SENDING and row.attempts == 1

    workers.kill("worker-a")
    workers.start("worker-b")
    await workers.wait_until(lambda: sms_status_is(sms, SmsStatus.UNKNOWN), what="unknown")
    await workers.wait_until(lambda: sms_job_is(sms, JobStatus.SUCCEEDED), what="the job done")
    assert workers.stop("worker-b") == 0, workers.logs()

    [row] = await sms.sms_rows()
    assert "interrupted" in (row.last_error or "") and row.attempts == 1
    assert row.twilio_sid is None
    assert len(sms.twilio.messages) == 1 and sms.twilio.attempts == 1
