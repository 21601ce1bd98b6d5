"""The job worker: claims due jobs, runs their handlers, records the outcome.

Run any number of workers (in-process in `dunbot serve`, or `dunbot worker`) on one
database. On SIGTERM a worker stops claiming, lets running jobs finish for a grace period,
then releases whatever is still running so another worker picks it up at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping
from functools import partial
from typing import Any, Protocol, TypeVar

from storage import queue
from storage.db import Database
from storage.job_errors import describe_error
from storage.queue import ClaimedJob, PermanentJobError, RetryLater, RetryPolicy

log = logging.getLogger("dunbot.worker")

# What runs one job: an async function of the claimed job (its return value is ignored).
JobHandler = Callable[[ClaimedJob], Coroutine[Any, Any, None]]

# A job kind: a plain str or a StrEnum member (a handler table keyed by an enum is accepted).
KindT = TypeVar("KindT", bound=str)


class JobObserver(Protocol):
    """Told about every finished run (metrics)."""

    def __call__(self, *, kind: str, outcome: str, duration_s: float) -> None: ...


def make_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """Claims and runs jobs with a lease, a heartbeat, retries and a graceful stop."""

    def __init__(
        self,
        db: Database,
        handlers: Mapping[KindT, JobHandler],
        *,
        worker_id: str | None = None,
        lease_s: float = 30.0,
        poll_s: float = 0.5,
        concurrency: int = 4,
        retry_policy: RetryPolicy | None = None,
        shutdown_grace_s: float = 20.0,
        observer: JobObserver | None = None,
    ) -> None:
        self.db = db
        self.handlers: dict[str, JobHandler] = dict(handlers.items())
        self.worker_id = worker_id or make_worker_id()
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.concurrency = concurrency
        self.retry_policy = retry_policy or RetryPolicy()
        self.shutdown_grace_s = shutdown_grace_s
        self.observer = observer
        self._wake = asyncio.Event()
        self._running: dict[int, asyncio.Task[None]] = {}
        # Succeeded jobs not yet recorded: `run` records them in its next claim's transaction
        # (one commit for "done" and "next"); `run_until_idle` records each at once.
        self._finished: list[int] = []
        self._defer_completion = False
        db.on_jobs_committed(self.wake)

    def wake(self) -> None:
        """Look for work now instead of at the next poll (called after an enqueue commits)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and run jobs until `stop` is set, then drain or release."""
        log.info("worker started", extra={"worker_id": self.worker_id})
        self._defer_completion = True
        try:
            while not stop.is_set():
                self._wake.clear()  # before claiming: a wake-up during the claim is kept
                claimed_any = await self._fill_slots()
                if claimed_any and len(self._running) < self.concurrency:
                    continue
                await self._wait_for_work(stop)
        finally:
            try:
                await self._shutdown()
            finally:
                self._defer_completion = False
                await self._record_finished()
            log.info("worker stopped", extra={"worker_id": self.worker_id})

    async def _wait_for_work(self, stop: asyncio.Event) -> None:
        """Sleep until stopped, woken by an enqueue, a slot frees up, or the poll interval."""
        signals = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(
                [*signals, *self._running.values()],
                timeout=self.poll_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for signal in signals:
                signal.cancel()

    async def run_until_idle(self, *, max_jobs: int = 10_000) -> int:
        """Run due jobs one at a time until none is left (tests, `dunbot draft`). Returns count."""
        done = 0
        while done < max_jobs:
            job = await queue.claim(
                self.db, worker_id=self.worker_id, lease_s=self.lease_s, kinds=self.handlers
            )
            if job is None:
                return done
            await self._run_job(job)
            done += 1
        return done

    async def _fill_slots(self) -> bool:
        """Record finished jobs and lease jobs for every free slot, in one transaction."""
        finished, self._finished = self._finished, []
        try:
            jobs = await queue.claim_many(
                self.db,
                worker_id=self.worker_id,
                lease_s=self.lease_s,
                limit=self.concurrency - len(self._running),
                kinds=self.handlers,
                exclude_ids=self._running,
                complete_ids=finished,
            )
        except BaseException:
            self._finished[:0] = finished  # not recorded: try again with the next claim
            raise
        for job in jobs:
            task = asyncio.create_task(self._run_job(job), name=f"job-{job.id}-{job.kind}")
            self._running[job.id] = task
            task.add_done_callback(partial(self._forget, job.id))
        return bool(jobs)

    async def _record_finished(self) -> None:
        """Record succeeded jobs still waiting for the next claim (on stop)."""
        finished, self._finished = self._finished, []
        if not finished:
            return
        try:
            await queue.complete_many(self.db, job_ids=finished, worker_id=self.worker_id)
        except Exception:  # noqa: BLE001 - their leases expire and they run again elsewhere
            log.warning(
                "could not record finished jobs on stop", exc_info=True, extra={"jobs": finished}
            )

    def _forget(self, job_id: int, _task: asyncio.Task[None]) -> None:
        self._running.pop(job_id, None)

    async def _run_job(self, job: ClaimedJob) -> None:
        handler = self.handlers[job.kind]
        started = time.perf_counter()
        work = asyncio.create_task(handler(job), name=f"handler-{job.id}")
        lease_lost = asyncio.Event()
        heartbeat = asyncio.create_task(self._heartbeat(job, work, lease_lost))
        outcome = "succeeded"
        try:
            await work
        except asyncio.CancelledError:
            if not lease_lost.is_set():
                outcome = "released"
                await asyncio.shield(queue.release(self.db, job=job, worker_id=self.worker_id))
                raise
            outcome = "lease_lost"  # another worker owns the job now; record nothing
        except RetryLater as later:
            outcome = "rescheduled"
            await queue.reschedule(
                self.db,
                job=job,
                worker_id=self.worker_id,
                delay_s=later.delay_s,
                reason=later.reason,
            )
        except Exception as error:  # noqa: BLE001 - every failure is recorded on the job
            permanent = isinstance(error, PermanentJobError)
            described = describe_error(error)  # no customer data: it is stored and logged
            state = await queue.fail(
                self.db,
                job=job,
                worker_id=self.worker_id,
                error=described,
                policy=self.retry_policy,
                permanent=permanent,
            )
            outcome = "dead" if state == "dead" else "failed"
            log.warning(
                "job failed",
                extra={
                    "job_id": job.id,
                    "kind": job.kind,
                    "attempt": job.attempts,
                    "state": state,
                    "error": described,
                },
            )
        else:
            if self._defer_completion:
                self._finished.append(job.id)
                self._wake.set()
            else:
                await queue.complete(self.db, job_id=job.id, worker_id=self.worker_id)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            if self.observer is not None:
                self.observer(
                    kind=job.kind, outcome=outcome, duration_s=time.perf_counter() - started
                )

    async def _heartbeat(
        self, job: ClaimedJob, work: asyncio.Task[None], lease_lost: asyncio.Event
    ) -> None:
        """Extend the lease while the handler runs; stop the handler if the lease was lost."""
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                extended = await queue.extend_lease(
                    self.db, job_id=job.id, worker_id=self.worker_id, lease_s=self.lease_s
                )
            except Exception:  # noqa: BLE001 - try again at the next beat
                log.warning(
                    "lease heartbeat failed",
                    exc_info=True,
                    extra={"job_id": job.id, "kind": job.kind},
                )
                continue
            if not extended:
                log.error(
                    "lease lost: another worker took the job; stopping it here",
                    extra={"job_id": job.id, "kind": job.kind},
                )
                lease_lost.set()
                work.cancel()
                return

    async def _shutdown(self) -> None:
        if not self._running:
            return
        tasks = list(self._running.values())
        _done, pending = await asyncio.wait(tasks, timeout=self.shutdown_grace_s)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
