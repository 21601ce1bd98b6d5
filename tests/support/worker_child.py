"""A `storage.worker.Worker` in its own OS process, for tests that kill or race workers.

    python -m tests.support.worker_child --url sqlite+aiosqlite:///… --lease 1.5 --worker-id a

Every observable step is a row in `audit_log` (actor = the worker id), so a test can wait
for a condition in the database instead of sleeping:

- `worker_ready`  once, before the first claim;
- `job_started`   when a `slow_side_effect` job starts (then it holds for `--hold` seconds);
- `side_effect`   when a `slow_side_effect` job finishes its work;
- `job_run`       for each `record_run` job, with its start and end times (epoch seconds).

SIGTERM or SIGINT stops the worker gracefully; SIGKILL is what the tests use to crash it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from typing import Any

from storage.db import Database
from storage.models import AuditEntry
from storage.queue import ClaimedJob
from storage.worker import JobHandler
from tests.support.child_worker import child_parser, run_child, serve_until_stopped

SLOW_SIDE_EFFECT = "slow_side_effect"
RECORD_RUN = "record_run"


async def _audit(db: Database, *, actor: str, action: str, detail: dict[str, Any]) -> None:
    async with db.transaction() as session:
        session.add(AuditEntry(actor=actor, action=action, detail=detail))


def build_handlers(
    db: Database, *, worker_id: str, hold_s: float, work_ms: float
) -> dict[str, JobHandler]:
    """Test job handlers whose only side effects are audit rows."""

    async def slow_side_effect(job: ClaimedJob) -> None:
        await _audit(
            db,
            actor=worker_id,
            action="job_started",
            detail={"job_id": job.id, "attempt": job.attempts},
        )
        await asyncio.sleep(hold_s)
        await _audit(
            db,
            actor=worker_id,
            action="side_effect",
            detail={"job_id": job.id, "attempt": job.attempts},
        )

    async def record_run(job: ClaimedJob) -> None:
        started = time.time()
        await asyncio.sleep(random.uniform(0, work_ms) / 1000)
        ended = time.time()
        await _audit(
            db,
            actor=worker_id,
            action="job_run",
            detail={
                "job_id": job.id,
                "attempt": job.attempts,
                "serial_key": job.serial_key,
                "start": started,
                "end": ended,
            },
        )

    return {SLOW_SIDE_EFFECT: slow_side_effect, RECORD_RUN: record_run}


async def run(args: argparse.Namespace) -> None:
    db = Database(args.url)
    handlers = build_handlers(db, worker_id=args.worker_id, hold_s=args.hold, work_ms=args.work_ms)
    try:
        await serve_until_stopped(
            db,
            handlers,
            worker_id=args.worker_id,
            lease_s=args.lease,
            poll_s=args.poll,
            concurrency=args.concurrency,
            shutdown_grace_s=args.grace,
        )
    finally:
        await db.dispose()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = child_parser(__doc__.splitlines()[0], lease_s=1.5)
    parser.add_argument("--poll", type=float, default=0.1, help="idle poll interval (s)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--hold", type=float, default=0.0, help="slow_side_effect hold (s)")
    parser.add_argument("--grace", type=float, default=5.0, help="shutdown grace (s)")
    parser.add_argument("--work-ms", type=float, default=10.0, help="record_run max work (ms)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    run_child(run, parse_args())
