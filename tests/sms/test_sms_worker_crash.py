"""`kill -9` of a worker sending an SMS: before the row is `sending` the SMS goes out exactly
once after restart; after Twilio took the message but before the record, it is `unknown` and
nothing is resent.

Workers run as real processes (tests.support.sms_worker_child, clock pinned to daytime,
1 s lease) against the fake Stripe and fake Twilio of the `sms` harness, whose own worker does
not run `send_sms`. Waits poll the database or the fakes with a timeout, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from recovery.jobkinds import JobKind
from storage.models import JobStatus, SmsStatus
from tests.sms.conftest import PHONE, SmsHarness

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
LEASE_S = 1.0


class SmsWorkers:
    """Spawns SMS worker processes and never leaves one behind."""

    def __init__(self, url: str, sms: SmsHarness, log_dir: Path) -> None:
        self.url, self.sms, self.log_dir = url, sms, log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, worker_id: str) -> None:
        log = (self.log_dir / f"{worker_id}.log").open("wb")
        command = [sys.executable, "-m", "tests.support.sms_worker_child", "--url", self.url]
        command += ["--stripe-base", self.sms.app.stripe.base_url]
        command += ["--twilio-base", self.sms.twilio.base_url, "--lease", str(LEASE_S)]
        command += ["--worker-id", worker_id]
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        self.procs[worker_id] = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=log
        )
        log.close()

    def kill(self, worker_id: str) -> None:
        proc = self.procs[worker_id]
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL

    def stop(self, worker_id: str) -> int:
        """SIGTERM (graceful) and the exit code."""
        proc = self.procs[worker_id]
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=15)

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.log_dir.glob("*.log"))
        )

    def cleanup(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)

    async def wait_until(
        self, condition: Callable[[], Awaitable[bool] | bool], *, what: str, timeout_s: float = 20
    ) -> None:
        """Poll `condition` until true; fail with the workers' logs on timeout or exit."""
        deadline = time.monotonic() + timeout_s
        while True:
            result = condition()
            if result if isinstance(result, bool) else await result:
                return
            for worker_id, proc in self.procs.items():
                if proc.poll() is not None and proc.returncode != -signal.SIGKILL:
                    pytest.fail(f"{worker_id} exited ({proc.returncode}) waiting for {what}\n"
                                f"{self.logs()}")  # fmt: skip
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout_s}s waiting for {what}\n{self.logs()}")
            await asyncio.sleep(0.05)


@pytest.fixture
def workers(database_url: str, sms: SmsHarness, tmp_path: Path) -> Iterator[SmsWorkers]:
    sms.app.worker.handlers.pop(JobKind.SEND_SMS)  # only the child processes send SMS
    spawned = SmsWorkers(database_url, sms, tmp_path)
    yield spawned
    spawned.cleanup()


async def sms_status_is(sms: SmsHarness, status: SmsStatus) -> bool:
    return [row.status for row in await sms.sms_rows()] == [status]


async def sms_job_is(sms: SmsHarness, status: JobStatus) -> bool:
    return [job.status for job in await sms.sms_jobs()] == [status]


async def test_worker_killed_before_sending_sends_once_after_restart(
    sms: SmsHarness, workers: SmsWorkers
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
    sms: SmsHarness, workers: SmsWorkers
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
