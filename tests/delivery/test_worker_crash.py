"""`kill -9` of a sending worker: before the SMTP transaction the email goes out exactly once
after restart; during it, the outcome is `unknown` and nothing is resent until a person says so.

Workers run as real processes (tests.support.delivery_worker_child) with a 1 s lease; the
SMTP server and the fake Stripe belong to this test. Waits poll the database (or the
servers' records) with a timeout, never a fixed sleep.
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
from sqlalchemy import func, select

from bot.slack.actors import slack_actor
from recovery import decisions
from storage.models import AuditEntry, JobStatus, OutboxStatus
from tests.delivery.conftest import DeliveryHarness
from tests.fakes.smtp_server import HANG

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
LEASE_S = 1.0


class SendWorkers:
    """Spawns delivery worker processes and never leaves one behind."""

    def __init__(self, url: str, dh: DeliveryHarness, log_dir: Path) -> None:
        self.url, self.dh, self.log_dir = url, dh, log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, worker_id: str) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{worker_id}.log").open("wb")
        command = [sys.executable, "-m", "tests.support.delivery_worker_child"]
        command += ["--url", self.url, "--stripe-base", self.dh.stripe.base_url]
        command += ["--smtp-port", str(self.dh.smtp.port), "--lease", str(LEASE_S)]
        command += ["--worker-id", worker_id]
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=log)
        log.close()
        self.procs[worker_id] = proc
        return proc

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
        """Poll `condition` (the servers keep running in this loop meanwhile)."""
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
                jobs = [
                    (j.status, j.attempts, j.last_error) for j in await self.dh.jobs("send_email")
                ]
                pytest.fail(f"timed out after {timeout_s}s waiting for {what}\n{self.logs()}\n"
                            f"send jobs: {jobs}")  # fmt: skip
            await asyncio.sleep(0.05)


@pytest.fixture
def workers(database_url: str, dh: DeliveryHarness, tmp_path: Path) -> Iterator[SendWorkers]:
    spawned = SendWorkers(database_url, dh, tmp_path)
    yield spawned
    spawned.cleanup()


async def ready(dh: DeliveryHarness, worker_id: str) -> bool:
    async with dh.db.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "worker_ready", AuditEntry.actor == worker_id)
        )
    return bool(count)


async def outbox_status_is(dh: DeliveryHarness, status: str) -> bool:
    return (await dh.outbox()).status == status


async def test_worker_killed_before_smtp_sends_once_after_restart(
    dh: DeliveryHarness, workers: SendWorkers
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

    assert len(dh.smtp.messages) == 1 and dh.smtp.commands.count("DATA") == 1
    outbox = await dh.outbox()
    assert outbox.attempts == 1 and dh.smtp.messages[0].message["Message-ID"] == outbox.message_id
    [job] = await dh.jobs("send_email")
    assert job.status == JobStatus.SUCCEEDED and job.locked_by == "worker-b"
    assert job.attempts == 2  # the killed run counted, its lease expired, B took over
    assert (await dh.case()).emails_sent == 1
    assert workers.stop("worker-b") == 0, workers.logs()
    await dh.run_jobs()  # the card updates; nothing more goes out
    assert len(dh.smtp.messages) == 1 and dh.smtp.connection_count == 1


async def test_worker_killed_mid_transaction_is_unknown_and_never_resent(
    dh: DeliveryHarness, workers: SendWorkers
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
    await workers.wait_until(lambda: ready(dh, "worker-b"), what="worker-b to start")
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
