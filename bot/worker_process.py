"""`dunbot serve`'s worker in a supervised child process, so jobs never take the webhook's CPU.

One interpreter runs one thing at a time: a worker busy with events (SDK objects, ORM
transactions, JSON) held the web process's event loop and cut webhook ingest to a tenth of a
bare signature check (issue 18). By default `dunbot serve` therefore starts `dunbot worker
--supervised` as a child process and:

- restarts it with exponential backoff when it dies (1 s, 2 s, … 30 s; back to 1 s once it
  has run for a minute), so a crash or a kill loses nothing: its leases expire and the new
  child finishes the interrupted jobs;
- wakes it after every commit that enqueued a job, by writing one byte to the child's stdin
  (the in-process wake-up could not cross processes); the child still polls every
  `WORKER_POLL_S`, so a lost wake-up costs at most one poll;
- shows the child's job runs in the web process's /metrics: the child writes one JSON line
  per finished run to a pipe the supervisor reads (`report_fd`);
- stops it on shutdown with SIGTERM (the worker finishes or releases its running jobs, as
  `dunbot worker` does) and SIGKILL only after the grace period.

The child runs in its own session, so a terminal's Ctrl+C reaches the parent only and the
parent stops the child in order. The child stops by itself when its stdin reaches EOF: the
parent is gone (even after `kill -9`), so no orphan keeps working.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence

log = logging.getLogger("dunbot.supervisor")

# Told about each job run the child finished (the web process's metrics).
JobObserver = Callable[..., None]

FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
STABLE_AFTER_S = 60.0  # a child that ran this long starts the backoff over
WAKE_BYTE = b"w"


def child_command() -> list[str]:
    """`dunbot worker --supervised` with this interpreter (same settings: same env and cwd)."""
    return [sys.executable, "-m", "bot.cli", "worker", "--supervised"]


class WorkerSupervisor:
    """Runs the worker child, restarts it when it dies, wakes it, and stops it on shutdown."""

    def __init__(
        self,
        *,
        command: Sequence[str] | None = None,
        stop_timeout_s: float = 30.0,
        first_backoff_s: float = FIRST_BACKOFF_S,
        max_backoff_s: float = MAX_BACKOFF_S,
        observer: JobObserver | None = None,
    ) -> None:
        self.command = list(command or child_command())
        self.stop_timeout_s = stop_timeout_s  # the worker's own grace (20 s) plus start-up
        self.first_backoff_s = first_backoff_s
        self.max_backoff_s = max_backoff_s
        self.observer = observer
        self.process: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._wake_pending = False
        self._started_at = 0.0

    @property
    def pid(self) -> int | None:
        """The running child's process id (None between restarts)."""
        process = self.process
        return process.pid if process is not None and process.returncode is None else None

    async def start(self) -> None:
        """Start the child and the loop that restarts it."""
        self._loop = asyncio.get_running_loop()
        await self._spawn()
        self._task = asyncio.create_task(self._supervise(), name="worker-supervisor")

    async def stop(self) -> None:
        """SIGTERM the child, wait for it to finish or release its jobs, SIGKILL if it hangs."""
        self._stopping.set()
        process = self.process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=self.stop_timeout_s)
            except TimeoutError:
                log.error("worker process did not stop in time; killing it")
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self._task is not None:
            await self._task

    def wake(self) -> None:
        """Tell the child to look for work now (called after a commit that enqueued a job)."""
        loop = self._loop
        if loop is None or self._wake_pending:
            return  # one pending wake-up covers every commit before it is written
        self._wake_pending = True
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._write_wake()
        else:  # a commit on another thread
            loop.call_soon_threadsafe(self._write_wake)

    def _write_wake(self) -> None:
        self._wake_pending = False
        process = self.process
        if process is None or process.stdin is None or process.returncode is not None:
            return
        transport = process.stdin.transport
        if transport.is_closing() or transport.get_write_buffer_size() > 0:
            return  # the child has an unread wake-up already
        with contextlib.suppress(ConnectionError, RuntimeError):
            process.stdin.write(WAKE_BYTE)

    async def _spawn(self) -> None:
        read_fd, write_fd = os.pipe()
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.command,
                "--report-fd",
                str(write_fd),
                stdin=asyncio.subprocess.PIPE,
                pass_fds=(write_fd,),
                start_new_session=True,  # Ctrl+C reaches the parent: it stops the child in order
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        reports = os.fdopen(read_fd, "rb", buffering=0)
        await asyncio.get_running_loop().connect_read_pipe(
            lambda: _JobReports(self.observer), reports
        )
        self._started_at = time.monotonic()
        log.info("worker process started", extra={"pid": self.process.pid})

    async def _supervise(self) -> None:
        backoff = self.first_backoff_s
        while True:
            process = self.process
            assert process is not None
            code = await process.wait()
            if self._stopping.is_set():
                log.info("worker process stopped", extra={"pid": process.pid, "code": code})
                return
            if time.monotonic() - self._started_at >= STABLE_AFTER_S:
                backoff = self.first_backoff_s
            log.error(
                "worker process exited; restarting it",
                extra={"pid": process.pid, "code": code, "restart_in_s": backoff},
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=backoff)
            if self._stopping.is_set():
                return
            backoff = min(backoff * 2, self.max_backoff_s)
            try:
                await self._spawn()
            except OSError:
                log.exception("worker process could not be started")
                continue
            self.restarts += 1


class _JobReports(asyncio.Protocol):
    """The supervisor's end of the child's job reports: one JSON object per line."""

    def __init__(self, observer: JobObserver | None) -> None:
        self._observer = observer
        self._partial = b""

    def data_received(self, data: bytes) -> None:
        *lines, self._partial = (self._partial + data).split(b"\n")
        if self._observer is None:
            return
        for line in lines:
            try:
                run = json.loads(line)
                self._observer(
                    kind=str(run["kind"]),
                    outcome=str(run["outcome"]),
                    duration_s=float(run["duration_s"]),
                )
            except (ValueError, KeyError, TypeError):
                log.warning("unreadable job report from the worker process")


def job_reporter(fd: int) -> JobObserver:
    """In the child: the worker's observer, writing each finished run to the supervisor."""
    os.set_blocking(fd, False)

    def report(*, kind: str, outcome: str, duration_s: float) -> None:
        line = json.dumps({"kind": kind, "outcome": outcome, "duration_s": duration_s})
        with contextlib.suppress(BlockingIOError, BrokenPipeError):
            os.write(fd, line.encode() + b"\n")  # a full pipe drops a metric, never blocks

    return report


class _ParentPipe(asyncio.Protocol):
    """The child's end of the supervisor's stdin: a byte is a wake-up, EOF means stop."""

    def __init__(self, *, wake: Callable[[], None], stop: asyncio.Event) -> None:
        self._wake = wake
        self._stop = stop

    def data_received(self, data: bytes) -> None:
        self._wake()

    def eof_received(self) -> bool:
        log.warning("the serving process is gone; stopping the worker")
        self._stop.set()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop.set()


async def follow_parent(*, wake: Callable[[], None], stop: asyncio.Event) -> None:
    """In the child: wake the worker on each byte from the parent; set `stop` at EOF."""
    loop = asyncio.get_running_loop()
    pipe = os.fdopen(os.dup(sys.stdin.fileno()), "rb", buffering=0)
    await loop.connect_read_pipe(lambda: _ParentPipe(wake=wake, stop=stop), pipe)
