"""Burst benchmark: dunbot end to end against local fakes (run in a child process).

    python -m bench.burst --mode queue [--events 10000]      # worker throughput, no waits
    python -m bench.burst --quick                            # a short run (make bench)
    python -m bench.burst --mode e2e --failures 500          # end to end: bench/burst_e2e.py

Queue mode: `--events` failed invoices (5% VIP, about a third of them from returning
customers) are stored as `invoice.payment_failed` events with their jobs, then one worker
process (this one) works the queue off: Stripe answers at once, drafts come from the
template drafter, Slack answers at once. Reported: events per second, dunbot CPU per event
(this process only; the fakes run in a child process), Stripe requests per event, peak RSS.
Prints a markdown table and writes bench/results/burst.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.fakes_process import FakesPlan, FakesProcess, customer_id, invoice_id
from tests.fakes.stripe_server import DEFAULT_API_KEY

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "burst.json"
APPROVALS, VIP = "CAPPROVALS", "CVIP"
GOAL_EVENTS_PER_S = 50.0
GOAL_CPU_MS_PER_EVENT = 20.0


def _rss_mb() -> float:
    """This process's current resident set size."""
    with open(f"/proc/{os.getpid()}/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1000


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _settings(database_url: str, urls: dict[str, str], outbox: Path, **extra: Any) -> Any:
    from bot.settings import Settings

    return Settings(
        database_url=database_url,
        environment="test",
        log_level="WARNING",
        stripe_api_key=DEFAULT_API_KEY,
        stripe_api_base=urls["stripe"],
        slack_bot_token="xoxb-bench",
        slack_signing_secret="bench-signing-secret",
        slack_api_url=urls["slack"],
        slack_approvals_channel=APPROVALS,
        slack_vip_channel=VIP,
        finance_approvers=["UFIN"],
        account_managers=["UAM"],
        email_backend="file",
        email_outbox_dir=outbox,
        **extra,
    )


def _event(n: int, plan: FakesPlan) -> dict[str, Any]:
    from tests.fakes.stripe_events import build_event

    invoice = {"id": invoice_id(n), "object": "invoice", "customer": customer_id(n, plan)}
    return build_event("invoice.payment_failed", invoice, event_id=f"evt_bench{n:06d}")


async def _store_events(db: Any, plan: FakesPlan) -> None:
    """Through the webhook's own write path (batched), as if Stripe had delivered them."""
    from tests.fakes.stripe_events import store_events

    for start in range(0, plan.events, 500):
        await store_events(
            db, *(_event(n, plan) for n in range(start, min(start + 500, plan.events)))
        )


async def _queue_drained(db: Any) -> bool:
    """Nothing running and nothing due soon (VIP claim reminders wait hours: not counted)."""
    from datetime import timedelta

    from sqlalchemy import func, or_, select

    from storage.models import Job, JobStatus, utcnow

    soon = utcnow() + timedelta(seconds=5)
    async with db.sessions() as session:
        left = await session.scalar(
            select(func.count(Job.id)).where(
                or_(
                    Job.status == JobStatus.RUNNING,
                    (Job.status == JobStatus.QUEUED) & (Job.run_at <= soon),
                )
            )
        )
    return not left


async def run_queue_mode(database_url: str, plan: FakesPlan, tmp: Path) -> dict[str, Any]:
    """Store `plan.events` failures, then time one worker working them off."""
    from bot.logs import configure_logging
    from bot.wiring import build_runtime, build_worker
    from storage.migrate import upgrade

    fakes = FakesProcess(plan)
    try:
        await asyncio.to_thread(upgrade, database_url)
        settings = _settings(database_url, fakes.urls, tmp / "outbox")
        configure_logging(fmt="json", level="WARNING", secrets=[])
        runtime = build_runtime(settings, configure_logs=False)
        assert runtime.slack is not None
        runtime.slack.notifier.pacer.interval_s = 0.0  # Slack answers at once in this mode
        await runtime.open_clients()
        await _store_events(runtime.db, plan)
        worker = build_worker(runtime)
        idle_rss = _rss_mb()
        stop = asyncio.Event()
        cpu_before, started = _cpu_s(), time.perf_counter()
        running = asyncio.create_task(worker.run(stop))
        while not await _queue_drained(runtime.db):
            await asyncio.sleep(0.5)
        elapsed, cpu = time.perf_counter() - started, _cpu_s() - cpu_before
        stop.set()
        await running
        await runtime.resources.aclose()
    finally:
        report = fakes.stop()
    return {
        "mode": "queue",
        "database": database_url.split(":", 1)[0],
        "events": plan.events,
        "seconds": round(elapsed, 1),
        "events_per_s": round(plan.events / elapsed, 1),
        "cpu_ms_per_event": round(cpu * 1000 / plan.events, 1),
        "stripe_requests_per_event": round(report.stripe_requests / plan.events, 2),
        "stripe_requests_by_path": report.stripe_by_path,
        "rss_mb_before_run": round(idle_rss, 1),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "fakes": asdict(report),
    }


def main(argv: list[str] | None = None) -> int:
    selector = argparse.ArgumentParser(add_help=False)
    selector.add_argument("--mode", choices=["queue", "e2e"], default="queue")
    chosen, rest = selector.parse_known_args(argv)
    if chosen.mode == "e2e":  # its own options: python -m bench.burst --mode e2e --help
        from bench.burst_e2e import main as e2e_main

        return e2e_main(rest)
    parser = argparse.ArgumentParser(description="dunbot burst benchmark")
    parser.add_argument("--mode", choices=["queue", "e2e"], default="queue")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="500 events")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args(argv)
    events = 500 if args.quick else args.events
    plan = FakesPlan(events=events, customers=max(1, events * 2 // 3))
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/burst.db"
        result = asyncio.run(run_queue_mode(url, plan, Path(tmp)))
    print(
        "| mode | database | events | events/s (goal ≥ 50) | CPU ms/event (goal < 20) "
        "| Stripe req/event | peak RSS MB |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    print(
        f"| {result['mode']} | {result['database']} | {result['events']:,} | "
        f"{result['events_per_s']} | {result['cpu_ms_per_event']} | "
        f"{result['stripe_requests_per_event']} | {result['peak_rss_mb']} |"
    )
    RESULTS_PATH.parent.mkdir(exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
