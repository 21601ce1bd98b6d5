"""Job claim benchmark: the cost of one claim with few and with very many jobs due.

    python -m bench.claim                 # SQLite; add --postgres URL for PostgreSQL too
    python -m bench.claim --quick         # smaller queues, for a smoke test

For each queue size (10, 1,000, 100,000 due jobs, mixed priorities) it fills a fresh migrated
database, then times `storage.queue.claim` (each claim leases one job). The figure is the
median claim time as a ratio of the 10-due run, measured in the same run: the claim walks
the `ix_jobs_claim` index (status, priority, run_at, id), so the ratio should stay near 1.
Prints a markdown table and writes bench/results/claim.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import delete, insert

from storage import queue
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Job, JobStatus, utcnow

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "claim.json"
GOAL_RATIO = 1.5  # a claim with 100,000 due costs at most 1.5x one with 10 due


async def _fill(db: Database, due: int) -> None:
    """`due` queued jobs, due now, priorities spread over the three levels."""
    async with db.transaction() as session:
        await session.execute(delete(Job))
    now = utcnow()
    rows = [
        {
            "kind": "bench",
            "payload": {},
            "status": JobStatus.QUEUED,
            "priority": n % len(queue.Priority),
            "run_at": now,
            "created_at": now,
            "attempts": 0,
            "max_attempts": 8,
        }
        for n in range(due)
    ]
    for start in range(0, len(rows), 5000):
        async with db.transaction() as session:
            await session.execute(insert(Job), rows[start : start + 5000])
    if not db.is_sqlite:
        async with db.engine.begin() as connection:
            await connection.exec_driver_sql("ANALYZE jobs")


async def _time_claims(db: Database, claims: int) -> float:
    """Median seconds per claim."""
    times = []
    for _ in range(claims):
        started = time.perf_counter()
        job = await queue.claim(db, worker_id="bench", lease_s=60)
        times.append(time.perf_counter() - started)
        assert job is not None
    return statistics.median(times)


async def bench_database(url: str, sizes: list[int], claims: int) -> list[dict[str, object]]:
    db = Database(url)
    results: list[dict[str, object]] = []
    try:
        for due in sizes:
            await _fill(db, due)
            median = await _time_claims(db, min(claims, due))
            results.append({"due": due, "median_claim_ms": round(median * 1000, 3)})
    finally:
        await db.dispose()
    base = float(results[0]["median_claim_ms"])  # type: ignore[arg-type]
    for row in results:
        row["ratio_to_smallest"] = round(float(row["median_claim_ms"]) / base, 2)  # type: ignore[arg-type]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="dunbot job claim benchmark")
    parser.add_argument("--quick", action="store_true", help="10 and 10,000 due only")
    parser.add_argument("--postgres", help="a postgresql+asyncpg:// URL of an empty database")
    parser.add_argument("--claims", type=int, default=200)
    args = parser.parse_args(argv)
    sizes = [10, 10_000] if args.quick else [10, 1_000, 100_000]
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite+aiosqlite:///{tmp}/claim.db"
        upgrade(sqlite_url)
        report["sqlite"] = asyncio.run(bench_database(sqlite_url, sizes, args.claims))
    if args.postgres:
        upgrade(args.postgres)
        report["postgresql"] = asyncio.run(bench_database(args.postgres, sizes, args.claims))
    print(f"| database | due jobs | median claim (ms) | ratio to 10 due (goal ≤ {GOAL_RATIO}) |")
    print("|---|---:|---:|---:|")
    for name, rows in report.items():
        for row in rows:  # type: ignore[attr-defined]
            due, ms, ratio = row["due"], row["median_claim_ms"], row["ratio_to_smallest"]
            print(f"| {name} | {due:,} | {ms} | {ratio} |")
    RESULTS_PATH.parent.mkdir(exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
