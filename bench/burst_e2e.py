"""End-to-end burst bench: the real `dunbot serve` (and `dunbot worker`s) against local fakes.

    python -m bench.burst --mode e2e --failures 500 [--postgres URL] [--workers 1,2]

For each database (a fresh SQLite file; PostgreSQL too when `--postgres` or
DUNBOT_TEST_POSTGRES_URL names a server, on a fresh database created there) and each worker
count (1: `dunbot serve`, whose worker is its supervised child; 2: plus one `dunbot worker`):

1. the fakes start in a child process (bench/e2e_fakes.py): Stripe knows `--failures` failed
   invoices (5% VIP by amount, a third of them from returning customers), OpenAI answers every
   call after `--llm-latency` seconds, Slack lets `chat.postMessage` and `chat.update` through
   about once per `--slack-pace` seconds per channel and answers 429 with Retry-After beyond;
2. baseline, measured in the same run against the same fake Slack: a bare loop posting a few
   messages to another channel at Slack's pace (one card per draft would cost that per draft);
3. the burst: `--failures` signed `invoice.payment_failed` webhooks (built from the Stripe
   fixtures) sent to `POST /stripe/webhook`, 16 at a time.

Reported: ingest time; time until every event is processed; time until the last draft is
reviewable in Slack (the first message with buttons naming its invoice: a card or a batch
message), as a ratio of the baseline; top-level messages per channel; Stripe requests per
failure; LLM calls and calls in flight (max, time-weighted average); Slack 429s; idle and peak
RSS of each dunbot process. Prints a markdown table and writes bench/results/burst_e2e.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.e2e_fakes import (
    APPROVALS,
    BASELINE_CHANNEL,
    VIP,
    E2EFakes,
    E2EPlan,
    E2EReport,
    invoice_number,
)
from bench.fakes_process import FakesPlan, customer_id, invoice_id, is_vip

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_PATH = REPO_ROOT / "bench" / "results" / "burst_e2e.json"
SECRET = "whsec_bench_e2e_0123456789abcdef"
SENDERS = 16
BASELINE_POSTS = 10
GOAL_PROCESSED_S = 60.0
GOAL_REVIEWABLE_S = 120.0
GOAL_RSS_MB = 150.0
GOAL_TOP_LEVEL = 20


# --- dunbot processes ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


class Dunbot:
    """`dunbot serve` (worker in its supervised child) plus `extra_workers` `dunbot worker`s."""

    def __init__(self, *, env: dict[str, str], workdir: Path, extra_workers: int) -> None:
        port = _free_port()
        self.root = f"http://127.0.0.1:{port}"
        dunbot = str(Path(sys.executable).with_name("dunbot"))
        self._log = (workdir / "dunbot.log").open("ab")
        self.serve = subprocess.Popen(
            [dunbot, "serve", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.workers = [
            subprocess.Popen(
                [dunbot, "worker"], cwd=workdir, env=env, stdout=self._log, stderr=subprocess.STDOUT
            )
            for _ in range(extra_workers)
        ]

    def processes(self) -> dict[str, int]:
        """Role → pid of every dunbot process: the web server, its worker child, extra workers."""
        roles = {"web": self.serve.pid}
        for n, child in enumerate(_children(self.serve.pid)):
            roles["worker" if n == 0 else f"web child {n}"] = child
        for n, extra in enumerate(self.workers, start=2):
            roles[f"worker {n}"] = extra.pid
        return roles

    def rss_mb(self, field: str = "VmRSS") -> dict[str, float]:
        """Current (VmRSS) or peak (VmHWM) resident set of each process."""
        return {
            role: round(_status_kb(pid, field) / 1024, 1) for role, pid in self.processes().items()
        }

    async def wait_ready(self, timeout_s: float = 120) -> None:
        """/healthz answers and the worker processes are up."""
        deadline = time.monotonic() + timeout_s
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                for proc in [self.serve, *self.workers]:
                    if proc.poll() is not None:
                        raise RuntimeError(f"a dunbot process exited ({proc.returncode})")
                with suppress(aiohttp.ClientError):
                    async with session.get(self.root + "/healthz") as response:
                        if response.status == 200 and _children(self.serve.pid):
                            return
                await asyncio.sleep(0.3)
        raise RuntimeError("dunbot serve did not become healthy")

    def stop(self) -> None:
        for proc in [*self.workers, self.serve]:
            proc.terminate()
        for proc in [*self.workers, self.serve]:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._log.close()


def dunbot_env(*, database_url: str, urls: dict[str, str], workdir: Path) -> dict[str, str]:
    """The environment of every dunbot process: the fakes, this run's database."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "STRIPE_", "LLM_", "OPENAI_", "ANTHROPIC_", "DATABASE_"))
    }
    env.update(
        DUNBOT_CONFIG=str(workdir / "absent.toml"),
        DATABASE_URL=database_url,
        STRIPE_API_KEY="sk_test_dunbot_fake",
        STRIPE_API_BASE=urls["stripe"],
        STRIPE_WEBHOOK_SECRET=SECRET,
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET="bench-signing-secret",
        SLACK_API_URL=urls["slack"],
        SLACK_APPROVALS_CHANNEL=APPROVALS,
        SLACK_VIP_CHANNEL=VIP,
        FINANCE_APPROVERS="UFIN",
        ACCOUNT_MANAGERS="UAM",
        LLM_PROVIDER="openai",
        OPENAI_API_KEY="sk-bench",
        OPENAI_BASE_URL=urls["openai"],
        COMPANY_NAME="Acme",
        EMAIL_BACKEND="file",
        EMAIL_OUTBOX_DIR=str(workdir / "outbox"),
        LOG_LEVEL="WARNING",
        LOG_FORMAT="json",
    )
    return env


# --- databases -------------------------------------------------------------------------------


async def _pg_admin(url: str, statement: str) -> None:
    """Run one statement outside a transaction (CREATE / DROP DATABASE)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql(statement)
    finally:
        await engine.dispose()


def fresh_postgres(server_url: str) -> tuple[str, str]:
    """A new empty database on the server of `server_url`: (its URL, its name)."""
    from sqlalchemy import make_url

    name = f"dunbot_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(server_url, f'CREATE DATABASE "{name}"'))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False), name


def drop_postgres(server_url: str, name: str) -> None:
    asyncio.run(_pg_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _progress(database_url: str) -> tuple[int, dict[str, int]]:
    """Events processed so far, and drafts by source (ai, template)."""
    from sqlalchemy import func, select

    from storage.db import Database
    from storage.models import Draft, StripeEventRow

    db = Database(database_url)
    try:
        async with db.sessions() as session:
            processed = await session.scalar(
                select(func.count(StripeEventRow.id)).where(
                    StripeEventRow.processed_at.is_not(None)
                )
            )
            sources = dict(
                (
                    await session.execute(
                        select(Draft.source, func.count(Draft.id)).group_by(Draft.source)
                    )
                ).all()
            )
        return processed or 0, {str(k): int(v) for k, v in sources.items()}
    finally:
        await db.dispose()


async def draft_times(database_url: str) -> tuple[float, float] | None:
    """When the first and the last draft were stored (epoch seconds): where drafting ends and
    Slack's part begins."""
    from sqlalchemy import func, select

    from storage.db import Database
    from storage.models import Draft

    db = Database(database_url)
    try:
        async with db.sessions() as session:
            first, last = (
                await session.execute(
                    select(func.min(Draft.created_at), func.max(Draft.created_at))
                )
            ).one()
        return (first.timestamp(), last.timestamp()) if first and last else None
    finally:
        await db.dispose()


async def batch_members(database_url: str) -> list[tuple[int, int, str]]:
    """(batch id, batch version it joined at, invoice number) of every draft in a review
    batch; none when this version of dunbot has no batch review (no such table)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from storage.db import Database

    db = Database(database_url)
    try:
        async with db.sessions() as session:
            rows = await session.execute(
                text(
                    "SELECT m.batch_id, m.joined_version, c.invoice_number "
                    "FROM review_batch_drafts m JOIN cases c ON c.id = m.case_id"
                )
            )
            return [(int(b), int(v), str(n)) for b, v, n in rows.all()]
    except DBAPIError:
        return []
    finally:
        await db.dispose()


def reviewable_times(
    cards: dict[str, float],
    batch_versions: dict[str, float],
    members: list[tuple[int, int, str]],
) -> dict[str, float]:
    """Invoice number → when its draft first became actionable: a message with buttons naming
    it, or a batch message showing a version of its batch at or after the one it joined."""
    shown: dict[int, list[tuple[int, float]]] = {}
    for key, at in batch_versions.items():
        batch_text, _, version_text = key.partition(":")
        with suppress(ValueError):
            shown.setdefault(int(batch_text), []).append((int(version_text), at))
    times = dict(cards)
    for batch, joined, number in members:
        seen = [at for version, at in shown.get(batch, []) if version >= joined]
        if seen:
            times[number] = min(times.get(number, min(seen)), min(seen))
    return times


# --- load ------------------------------------------------------------------------------------


def signed_deliveries(plan: FakesPlan) -> list[tuple[bytes, str]]:
    """One signed `invoice.payment_failed` per planned failure, from the Stripe fixtures."""
    from tests.fakes.stripe_events import build_event, sign_payload
    from tests.fakes.stripe_server import load_fixture

    deliveries = []
    for n in range(plan.events):
        invoice = load_fixture("invoice")
        invoice.update(
            id=invoice_id(n),
            number=invoice_number(n),
            customer=customer_id(n, plan),
            status="open",
            attempt_count=1,
        )
        body = json.dumps(build_event("invoice.payment_failed", invoice)).encode()
        deliveries.append((body, sign_payload(body, SECRET)))
    return deliveries


async def send_burst(url: str, deliveries: list[tuple[bytes, str]]) -> int:
    """POST every delivery, SENDERS at a time; returns how many were not answered 200."""
    failures = 0
    pending = iter(deliveries)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=SENDERS)) as session:

        async def sender() -> None:
            nonlocal failures
            for body, signature in pending:
                headers = {"content-type": "application/json", "stripe-signature": signature}
                try:
                    async with session.post(url, data=body, headers=headers) as response:
                        await response.read()
                        failures += response.status != 200
                except aiohttp.ClientError:
                    failures += 1

        await asyncio.gather(*(sender() for _ in range(SENDERS)))
    return failures


async def paced_posts_baseline(slack_url: str, posts: int, pace_s: float) -> float:
    """Seconds per message of a bare loop posting at Slack's pace to one channel (a 429 waits
    its Retry-After): what one card per draft costs at best."""
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token="xoxb-bench", base_url=slack_url)
    started = time.perf_counter()
    for n in range(posts):
        while True:
            try:
                await client.chat_postMessage(channel=BASELINE_CHANNEL, text=f"card {n}")
                break
            except SlackApiError as error:
                if error.response.status_code != 429:
                    raise
                await asyncio.sleep(float(error.response.headers.get("Retry-After", "1")))
        await asyncio.sleep(pace_s)
    return (time.perf_counter() - started) / posts


def in_flight(spans: list[tuple[float, float]]) -> tuple[int, float]:
    """Most calls in flight at once, and the time-weighted average while any call ran."""
    if not spans:
        return 0, 0.0
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    busy = sum(end - start for start, end in spans)
    return most, busy / (max(end for _, end in spans) - min(start for start, _ in spans))


async def _settled_rss(dunbot: Dunbot, *, timeout_s: float = 30.0) -> dict[str, float]:
    """Idle RSS once start-up imports are done: two readings a second apart agree."""
    previous = dunbot.rss_mb()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        current = dunbot.rss_mb()
        if current.keys() == previous.keys() and all(
            abs(current[role] - previous[role]) < 0.5 for role in current
        ):
            return current
        previous = current
    return previous


# --- one configuration -----------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    database: str  # sqlite | postgresql
    workers: int
    review: str = "default"  # default: the product's default; cards: one card per draft


async def _watch(
    *,
    dunbot: Dunbot,
    fakes: E2EFakes,
    database_url: str,
    started: float,
    events: int,
    expected: set[str],
    timeout_s: float,
) -> dict[str, Any]:
    """Poll until every event is processed and every expected draft is reviewable."""
    processed_s: float | None = None
    reviewable: dict[str, float] = {}
    peak_total = 0.0
    while time.time() - started < timeout_s:
        processed, _sources = await _progress(database_url)
        if processed_s is None and processed >= events:
            processed_s = time.time() - started
        status = fakes.status()
        reviewable = reviewable_times(
            status["reviewable_at"], status["batch_versions"], await batch_members(database_url)
        )
        peak_total = max(peak_total, sum(dunbot.rss_mb().values()))
        if processed_s is not None and expected <= reviewable.keys():
            break
        await asyncio.sleep(1.0)
    return {"processed_s": processed_s, "reviewable": reviewable, "peak_total_rss": peak_total}


async def run_config(
    config: Config, *, database_url: str, e2e: E2EPlan, workdir: Path, timeout_s: float
) -> dict[str, Any]:
    from storage.migrate import upgrade

    plan = e2e.fakes
    await asyncio.to_thread(upgrade, database_url)
    fakes = E2EFakes(e2e)
    dunbot: Dunbot | None = None
    try:
        env = dunbot_env(database_url=database_url, urls=fakes.urls, workdir=workdir)
        if config.review == "cards":
            env["BATCH_REVIEW_THRESHOLD"] = "0"  # batch review off: one card per draft
        dunbot = Dunbot(env=env, workdir=workdir, extra_workers=config.workers - 1)
        await dunbot.wait_ready()
        idle = await _settled_rss(dunbot)
        per_post_s = await paced_posts_baseline(
            fakes.urls["slack"], BASELINE_POSTS, e2e.slack_pace_s
        )
        deliveries = signed_deliveries(plan)
        expected = {invoice_number(n) for n in range(plan.events) if not is_vip(n, plan)}
        started = time.time()
        not_ok = await send_burst(dunbot.root + "/stripe/webhook", deliveries)
        ingest_s = time.time() - started
        watched = await _watch(
            dunbot=dunbot,
            fakes=fakes,
            database_url=database_url,
            started=started,
            events=plan.events,
            expected=expected,
            timeout_s=timeout_s,
        )
        peak = dunbot.rss_mb("VmHWM")
        _processed, sources = await _progress(database_url)
        members = await batch_members(database_url)
        drafted = await draft_times(database_url)
    finally:
        if dunbot is not None:
            dunbot.stop()
        report = fakes.stop()
    return _result(
        config,
        plan=plan,
        report=report,
        ingest_s=ingest_s,
        not_ok=not_ok,
        watched=watched,
        expected=expected,
        started=started,
        per_post_s=per_post_s,
        idle=idle,
        peak=peak,
        sources=sources,
        members=members,
        drafted=drafted,
    )


def _result(
    config: Config,
    *,
    plan: FakesPlan,
    report: E2EReport,
    ingest_s: float,
    not_ok: int,
    watched: dict[str, Any],
    expected: set[str],
    started: float,
    per_post_s: float,
    idle: dict[str, float],
    peak: dict[str, float],
    sources: dict[str, int],
    members: list[tuple[int, int, str]],
    drafted: tuple[float, float] | None,
) -> dict[str, Any]:
    times = reviewable_times(report.reviewable_at, report.batch_versions, members)
    reviewable = {n: t - started for n, t in times.items() if n in expected}
    missing = len(expected - reviewable.keys())
    last = max(reviewable.values()) if reviewable and not missing else None
    baseline_s = per_post_s * len(expected)
    most, average = in_flight(report.llm_spans)
    return {
        "database": config.database,
        "workers": config.workers,
        "review": config.review,
        "failures": plan.events,
        "drafts_expected": len(expected),
        "drafts_by_source": sources,
        "webhooks_not_200": not_ok,
        "ingest_s": round(ingest_s, 1),
        "all_processed_s": round(watched["processed_s"], 1) if watched["processed_s"] else None,
        "first_draft_stored_s": round(drafted[0] - started, 1) if drafted else None,
        "last_draft_stored_s": round(drafted[1] - started, 1) if drafted else None,
        "first_reviewable_s": round(min(reviewable.values()), 1) if reviewable else None,
        "last_reviewable_s": round(last, 1) if last is not None else None,
        "drafts_not_reviewable": missing,
        "drafts_in_batches": len(members),
        "batch_messages_shown": len(report.batch_versions),
        "baseline_paced_post_s": round(per_post_s, 3),
        "baseline_one_card_per_draft_s": round(baseline_s, 1),
        "last_reviewable_vs_baseline": round(last / baseline_s, 2) if last else None,
        "top_level_messages": {
            channel: report.slack_top_level.get(channel, 0) for channel in (APPROVALS, VIP)
        },
        "slack_calls": report.slack_calls,
        "slack_429": report.slack_429,
        "stripe_requests_per_failure": round(report.stripe_requests / plan.events, 2),
        "stripe_requests_by_path": report.stripe_by_path,
        "llm_calls": len(report.llm_spans),
        "llm_in_flight_max": most,
        "llm_in_flight_avg": round(average, 2),
        "rss_idle_mb": idle,
        "rss_peak_mb": peak,
    }


# --- report ----------------------------------------------------------------------------------


def _fmt(value: Any, goal: float | None = None) -> str:
    if value is None:
        return "—"
    text = f"{value:,}" if isinstance(value, int) else f"{value}"
    if goal is not None and isinstance(value, int | float) and value > goal:
        text += " (missed)"
    return text


def print_table(results: list[dict[str, Any]]) -> None:
    print(
        "| database | workers | review | failures | ingest s | all processed s (goal ≤ 60) "
        "| last draft stored s | last draft reviewable s (goal ≤ 120) "
        "| × one-card-per-draft baseline "
        "| top-level msgs approvals/VIP (goal < 20) | Slack 429s | Stripe req/failure "
        "| LLM calls, in flight max/avg | RSS idle → peak MB per process (goal ≤ 150) |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---|")
    for r in results:
        top = r["top_level_messages"]
        rss = ", ".join(
            f"{role} {r['rss_idle_mb'].get(role, 0)} → {peak}"
            for role, peak in r["rss_peak_mb"].items()
        )
        last = _fmt(r["last_reviewable_s"], GOAL_REVIEWABLE_S)
        if r["drafts_not_reviewable"]:
            last = f"{r['drafts_not_reviewable']} never (timeout)"
        print(
            f"| {r['database']} | {r['workers']} | {r['review']} | {r['failures']:,} "
            f"| {r['ingest_s']} "
            f"| {_fmt(r['all_processed_s'], GOAL_PROCESSED_S)} "
            f"| {_fmt(r['last_draft_stored_s'])} | {last} "
            f"| {_fmt(r['last_reviewable_vs_baseline'])} "
            f"(baseline {r['baseline_one_card_per_draft_s']} s) "
            f"| {top[APPROVALS]} / {top[VIP]} | {r['slack_429']} "
            f"| {r['stripe_requests_per_failure']} "
            f"| {r['llm_calls']}, {r['llm_in_flight_max']}/{r['llm_in_flight_avg']} | {rss} |"
        )


def _run_one(
    config: Config, *, e2e: E2EPlan, postgres: str | None, timeout_s: float
) -> dict[str, Any]:
    """One configuration on a fresh database (a SQLite file, or a new PostgreSQL database)."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        pg_name = None
        if config.database == "sqlite":
            url = f"sqlite+aiosqlite:///{workdir}/burst.db"
        else:
            assert postgres
            url, pg_name = fresh_postgres(postgres)
        try:
            return asyncio.run(
                run_config(config, database_url=url, e2e=e2e, workdir=workdir, timeout_s=timeout_s)
            )
        finally:
            if pg_name is not None and postgres:
                drop_postgres(postgres, pg_name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.burst --mode e2e", description="dunbot end-to-end burst bench"
    )
    parser.add_argument("--failures", type=int, default=500)
    parser.add_argument("--workers", default="1,2", help="worker process counts, e.g. 1,2")
    parser.add_argument("--postgres", default=os.environ.get("DUNBOT_TEST_POSTGRES_URL"))
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--review",
        default="default",
        help="default (the product's default: batch review above its threshold), cards (one "
        "card per draft, BATCH_REVIEW_THRESHOLD=0), or both: default,cards",
    )
    parser.add_argument("--llm-latency", type=float, default=1.0)
    parser.add_argument("--slack-pace", type=float, default=1.0)
    parser.add_argument("--timeout", type=float, help="seconds per run (default: 3 × failures)")
    parser.add_argument("--results", type=Path, default=RESULTS_PATH)
    args = parser.parse_args(argv)
    plan = FakesPlan(events=args.failures, customers=max(1, args.failures * 2 // 3))
    e2e = E2EPlan(fakes=plan, llm_latency_s=args.llm_latency, slack_pace_s=args.slack_pace)
    timeout_s = args.timeout or max(120.0, 3.0 * args.failures)
    databases = ([] if args.no_sqlite else ["sqlite"]) + (["postgresql"] if args.postgres else [])
    results = []
    configs = [
        Config(database=database, workers=int(workers), review=review)
        for database in databases
        for workers in args.workers.split(",")
        for review in args.review.split(",")
    ]
    for config in configs:
        results.append(_run_one(config, e2e=e2e, postgres=args.postgres, timeout_s=timeout_s))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    print_table(results)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(
        json.dumps(
            {
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared)",
                "load_average": os.getloadavg(),
                "llm_latency_s": args.llm_latency,
                "slack_pace_s": args.slack_pace,
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    return 0 if all(not r["drafts_not_reviewable"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
