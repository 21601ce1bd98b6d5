"""What the worker child processes in tests/support share: their command line,
its `worker_ready` audit row before the first claim, and a graceful stop on SIGTERM/SIGINT.
SIGKILL is what the tests use to crash it."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from storage.db import Database
from storage.models import AuditEntry
from storage.queue import RetryPolicy
from storage.worker import JobHandler, KindT, Worker


def child_parser(description: str, *, lease_s: float = 1.0) -> argparse.ArgumentParser:
    """--url, --lease and --worker-id; a child adds what its services need."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--url", required=True, help="DATABASE_URL of a migrated database")
    parser.add_argument("--lease", type=float, default=lease_s, help="job lease in seconds")
    parser.add_argument("--worker-id", required=True)
    return parser


async def serve_until_stopped(
    db: Database,
    handlers: Mapping[KindT, JobHandler],
    *,
    worker_id: str,
    lease_s: float,
    poll_s: float = 0.1,
    concurrency: int = 1,
    shutdown_grace_s: float = 5.0,
) -> None:
    """Say `worker_ready` in the audit log, then run a worker until SIGTERM or SIGINT."""
    worker = Worker(
        db,
        handlers,
        worker_id=worker_id,
        lease_s=lease_s,
        poll_s=poll_s,
        concurrency=concurrency,
        retry_policy=RetryPolicy(base_s=0.2, jitter=0.0),
        shutdown_grace_s=shutdown_grace_s,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with db.transaction() as session:
        session.add(AuditEntry(actor=worker_id, action="worker_ready", detail={}))
    await worker.run(stop)


def run_child(
    run: Callable[[argparse.Namespace], Coroutine[Any, Any, None]], args: argparse.Namespace
) -> None:
    """The child's entry point: INFO logs to its log file, then `run(args)`."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(run(args))
