"""Worker processes for the kill -9 tests: spawn `python -m <child module>`, SIGKILL or SIGTERM
one, wait for a condition with their logs on failure, and never leave one behind."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.db import Database
from storage.models import AuditEntry

REPO_ROOT = Path(__file__).resolve().parents[2]

# What a timed-out wait adds to the workers' logs (e.g. the state of the jobs it waited on).
Details = Callable[[], Awaitable[str]]


class WorkerProcesses:
    """Spawns `python -m <module> <args> --worker-id <id>` processes, one log file each."""

    def __init__(
        self, *, module: str, args: Sequence[str], log_dir: Path, details: Details | None = None
    ) -> None:
        self.module, self.args, self.log_dir, self.details = module, list(args), log_dir, details
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, worker_id: str, *extra: str) -> subprocess.Popen[bytes]:
        """Spawn one worker; `extra` arguments go after the common ones."""
        log = (self.log_dir / f"{worker_id}.log").open("wb")
        command = [sys.executable, "-m", self.module, *self.args, "--worker-id", worker_id, *extra]
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=log)
        log.close()
        self.procs[worker_id] = proc
        return proc

    def kill(self, worker_id: str) -> None:
        """SIGKILL: the crash under test; waits until it is gone."""
        proc = self.procs[worker_id]
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL

    def stop(self, worker_id: str, timeout_s: float = 15.0) -> int:
        """SIGTERM (graceful drain) and the exit code."""
        proc = self.procs[worker_id]
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=timeout_s)

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
        """Poll `condition` (servers in this loop keep running meanwhile); fail with the logs
        when it times out or a worker exits other than by SIGKILL."""
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
                details = f"\n{await self.details()}" if self.details else ""
                pytest.fail(f"timed out after {timeout_s}s waiting for {what}\n{self.logs()}"
                            f"{details}")  # fmt: skip
            await asyncio.sleep(0.05)


@contextlib.contextmanager
def worker_processes(
    module: str, args: Sequence[str], log_dir: Path, *, details: Details | None = None
) -> Iterator[WorkerProcesses]:
    """WorkerProcesses whose survivors are killed on exit (for a fixture to yield)."""
    spawned = WorkerProcesses(module=module, args=args, log_dir=log_dir, details=details)
    try:
        yield spawned
    finally:
        spawned.cleanup()


async def audit_logged(db: Database, action: str, *, actor: str) -> bool:
    """Whether `actor` wrote an audit row `action` (children report `worker_ready` this way)."""
    async with db.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.actor == actor)
        )
    return bool(count)
