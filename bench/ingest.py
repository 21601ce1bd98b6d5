"""Webhook ingest benchmark: dunbot's POST /stripe/webhook against a bare signature check.

    python -m bench.ingest            # or: make bench
    python -m bench.ingest --quick    # a smaller run, for a smoke test

Two servers run side by side, each in its own uvicorn process on 127.0.0.1 (port 0):

- dunbot: `bot.app.create_app` on a fresh migrated SQLite file (no worker): verify the
  signature, store the event and its job in one transaction, answer 200;
- bare: a FastAPI app whose only route verifies the Stripe signature and answers 200,
  the floor any correct webhook endpoint pays.

Each is driven with signed, unique `invoice.payment_failed` events built from the fixture:

1. saturation: a closed loop of 16 concurrent senders (throughput ceiling);
2. steady: an open loop at a fixed rate, each send scheduled by the clock whether or not
   earlier answers came back (latency is measured from the scheduled send time, so a
   stalled server is not hidden by a stalled client).

Then, with the worker busy (issue 18): the real `dunbot serve` command runs on a fresh SQLite
file holding a backlog of queued `invoice.payment_failed` events whose invoices the fake Stripe
(its own process) knows, so the worker re-reads invoices, segments, drafts — CPU-bound work —
during the whole measurement. It runs twice, with the worker in the web process
(`SERVE_WORKER=inline`, the old default) and in its supervised child (`process`, the
default), each against the bare route measured in the same run. The report says how many jobs
the worker finished during each measurement and how many were still queued after it (a busy
worker throughout), and the machine's load average (it is shared).

Prints a markdown table and writes bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp
import stripe
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_PATH = REPO_ROOT / "bench" / "results" / "ingest.json"
SECRET = "whsec_bench_0123456789abcdef"
PATH = "/stripe/webhook"

GOAL_THROUGHPUT_RATIO = 0.8
GOAL_BUSY_THROUGHPUT_RATIO = 0.5
GOAL_STEADY_P99_MS = 50.0
WORKER_MODES = ("inline", "process")


# --- servers (each runs in a child process: `python -m bench.ingest --serve NAME`) ---------


def bare_app() -> FastAPI:
    """A FastAPI app that only verifies the Stripe signature and answers 200."""
    app = FastAPI(docs_url=None, redoc_url=None)

    @app.post(PATH)
    async def webhook(request: Request) -> Response:
        body = await request.body()
        try:
            stripe.WebhookSignature.verify_header(
                body.decode("utf-8"), request.headers.get("stripe-signature", ""), SECRET, 300
            )
        except stripe.SignatureVerificationError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"received": True})

    return app


def dunbot_app(database_url: str) -> FastAPI:
    """dunbot's own app on `database_url`, without the worker (ingest only)."""
    from bot.app import create_app
    from bot.runtime import Runtime
    from bot.settings import Settings
    from storage.db import Database

    settings = Settings(database_url=database_url, stripe_webhook_secret=SECRET, environment="test")
    return create_app(Runtime(settings=settings, db=Database(database_url)))


def serve_stripe(invoices: int) -> None:
    """The fake Stripe with `invoices` open invoices `in_busy_<n>` (customer `cus_busy_<n>`);
    print its base address, serve until terminated."""
    import signal
    import threading

    from tests.fakes.stripe_server import FakeStripe

    stripe_server = FakeStripe()
    for n in range(invoices):
        stripe_server.add_customer(id=f"cus_busy_{n}", email=f"busy{n}@example.com", name="Busy")
        stripe_server.add_invoice(
            id=f"in_busy_{n}", customer=f"cus_busy_{n}", amount_due=4900, attempt_count=1
        )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with stripe_server:
        print(stripe_server.base_url, flush=True)
        stop.wait()


def serve(name: str, database_url: str | None) -> None:
    """Bind 127.0.0.1:0, print the port on stdout, serve until terminated."""
    import uvicorn

    app = bare_app() if name == "bare" else dunbot_app(database_url or "")
    if name == "dunbot":
        from bot.app import freeze_startup_heap

        freeze_startup_heap()  # as `dunbot serve` does
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    if name == "dunbot":  # the server settings `dunbot serve` uses (bounded request heads)
        from bot.server import server_config

        config = server_config(app, host="127.0.0.1", port=0, log_level="warning")
    else:  # uvicorn's defaults (uvloop and httptools when installed)
        config = uvicorn.Config(app, log_config=None, access_log=False, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


class ServerProcess:
    """One benchmark server in a child process."""

    def __init__(self, name: str, database_url: str | None = None) -> None:
        command = [sys.executable, "-m", "bench.ingest", "--serve", name]
        if database_url:
            command += ["--database-url", database_url]
        self.name = name
        self.proc = subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=subprocess.PIPE, env={**os.environ}
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode().strip()
        if not line.isdigit():
            self.proc.kill()
            raise RuntimeError(f"{name} server did not start (got {line!r})")
        self.url = f"http://127.0.0.1:{int(line)}{PATH}"

    def cpu_ns(self) -> int | None:
        """CPU time used so far by the server process, all threads (None off Linux)."""
        tasks = Path(f"/proc/{self.proc.pid}/task")
        if not tasks.is_dir():
            return None
        total = 0
        for task in tasks.iterdir():
            with contextlib.suppress(OSError):
                total += int((task / "schedstat").read_text().split()[0])
        return total

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class StripeProcess:
    """The fake Stripe in its own process (its answers never take the servers' CPU)."""

    def __init__(self, invoices: int) -> None:
        command = [sys.executable, "-m", "bench.ingest", "--serve", "stripe"]
        command += ["--invoices", str(invoices)]
        self.proc = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE)
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().decode().strip()
        if not self.base_url.startswith("http"):
            self.proc.kill()
            raise RuntimeError(f"fake Stripe did not start (got {self.base_url!r})")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class DunbotServe:
    """The real `dunbot serve` command (worker `inline` or in its child `process`)."""

    def __init__(self, *, mode: str, database_url: str, stripe_base: str, workdir: Path) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "STRIPE_", "LLM_"))
        }
        env.update(
            DUNBOT_CONFIG=str(workdir / "absent.toml"),
            DATABASE_URL=database_url,
            STRIPE_API_KEY="sk_test_dunbot_fake",
            STRIPE_API_BASE=stripe_base,
            STRIPE_WEBHOOK_SECRET=SECRET,
            LLM_PROVIDER="template",
            EMAIL_BACKEND="file",
            EMAIL_OUTBOX_DIR=str(workdir / "outbox"),
            SERVE_WORKER=mode,
            LOG_LEVEL="WARNING",
        )
        self.log = (workdir / f"serve-{mode}.log").open("wb")
        dunbot = Path(sys.executable).with_name("dunbot")
        self.proc = subprocess.Popen(
            [str(dunbot), "serve", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.root = f"http://127.0.0.1:{port}"
        self.url = self.root + PATH

    async def wait_healthy(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"dunbot serve exited with {self.proc.returncode}")
                try:
                    async with session.get(self.root + "/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError("dunbot serve did not answer /healthz")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


# --- load ------------------------------------------------------------------------------------


def signed_requests(count: int) -> list[tuple[bytes, str]]:
    """`count` unique signed invoice.payment_failed deliveries (body, Stripe-Signature)."""
    from tests.fakes.stripe_events import build_event, sign_payload
    from tests.fakes.stripe_server import load_fixture

    invoice = load_fixture("invoice")
    invoice.update(status="open", attempt_count=1)
    requests = []
    for n in range(count):
        invoice["id"] = f"in_bench_{os.getpid()}_{n}"
        body = json.dumps(build_event("invoice.payment_failed", invoice)).encode()
        requests.append((body, sign_payload(body, SECRET)))
    return requests


@dataclass
class Result:
    server: str
    scenario: str
    requests: int
    errors: int
    duration_s: float
    req_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    # CPU time the server process used per request (all threads; /proc, Linux only): steadier
    # than throughput when other work shares the machine.
    cpu_us_per_req: float | None = None


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(int(round(fraction * (len(sorted_values) - 1))), len(sorted_values) - 1)
    return sorted_values[index]


def _result(
    server: str, scenario: str, latencies: list[float], errors: int, duration_s: float
) -> Result:
    ordered = sorted(latencies)
    total = len(latencies) + errors
    return Result(
        server=server,
        scenario=scenario,
        requests=total,
        errors=errors,
        duration_s=round(duration_s, 3),
        req_per_s=round(len(latencies) / duration_s, 1) if duration_s else 0.0,
        p50_ms=round(statistics.median(ordered) * 1000, 2) if ordered else float("nan"),
        p99_ms=round(_percentile(ordered, 0.99) * 1000, 2),
        max_ms=round(ordered[-1] * 1000, 2) if ordered else float("nan"),
    )


async def _post(session: aiohttp.ClientSession, url: str, body: bytes, signature: str) -> bool:
    headers = {"content-type": "application/json", "stripe-signature": signature}
    try:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            return response.status == 200
    except aiohttp.ClientError:
        return False


async def saturation(
    server: str, url: str, requests: list[tuple[bytes, str]], concurrency: int
) -> Result:
    """Closed loop: `concurrency` senders, each sending its next request on an answer."""
    latencies: list[float] = []
    errors = 0
    pending = iter(requests)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def sender() -> None:
            nonlocal errors
            for body, signature in pending:
                started = time.perf_counter()
                ok = await _post(session, url, body, signature)
                if ok:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        duration = time.perf_counter() - began
    return _result(server, f"saturation c={concurrency}", latencies, errors, duration)


async def steady(server: str, url: str, requests: list[tuple[bytes, str]], rate: float) -> Result:
    """Open loop: request i is sent at start + i/rate, never waiting for earlier answers."""
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def send(scheduled: float, body: bytes, signature: str) -> None:
            nonlocal errors
            if await _post(session, url, body, signature):
                latencies.append(time.perf_counter() - scheduled)
            else:
                errors += 1

        tasks = []
        began = time.perf_counter()
        for n, (body, signature) in enumerate(requests):
            scheduled = began + n / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(scheduled, body, signature)))
        await asyncio.gather(*tasks)
        duration = time.perf_counter() - began
    result = _result(server, f"steady {rate:g} req/s", latencies, errors, duration)
    result.req_per_s = round(len(latencies) / (len(requests) / rate), 1)  # achieved vs offered
    return result


async def count_stored(database_url: str) -> int:
    """How many events dunbot durably stored (every 200 must be a row)."""
    from sqlalchemy import func, select

    from storage.db import Database
    from storage.models import StripeEventRow

    db = Database(database_url)
    try:
        async with db.sessions() as session:
            return await session.scalar(select(func.count()).select_from(StripeEventRow)) or 0
    finally:
        await db.dispose()


async def seed_backlog(database_url: str, invoices: int) -> None:
    """Queue one stored `invoice.payment_failed` (and its job) per fake Stripe invoice."""
    from recovery.ingest import ingest_item
    from storage.batch_ingest import BatchIngestWriter
    from storage.db import Database
    from tests.fakes.stripe_events import build_event
    from tests.fakes.stripe_server import load_fixture

    db = Database(database_url)
    writer = BatchIngestWriter(db)
    try:
        items = []
        for n in range(invoices):
            invoice = load_fixture("invoice")
            invoice.update(id=f"in_busy_{n}", customer=f"cus_busy_{n}", status="open")
            event = build_event("invoice.payment_failed", invoice)
            items.append(ingest_item(event, payload_json=json.dumps(event)))
        await asyncio.gather(*(writer.submit(item) for item in items))
    finally:
        await writer.close()
        await db.dispose()


async def jobs_by_status(database_url: str) -> dict[str, int]:
    """How many jobs are in each state (a busy worker: many finished, many still queued)."""
    from sqlalchemy import func, select

    from storage.db import Database
    from storage.models import Job

    db = Database(database_url)
    try:
        async with db.sessions() as session:
            rows = await session.execute(select(Job.status, func.count()).group_by(Job.status))
            return {str(row[0]): int(row[1]) for row in rows}
    finally:
        await db.dispose()


@dataclass
class BusyRun:
    mode: str
    jobs_done_during: int
    jobs_queued_after: int
    load_average: float


async def drive_busy(
    args: argparse.Namespace, *, mode: str, stripe_base: str, workdir: Path
) -> tuple[list[Result], BusyRun]:
    """`dunbot serve` with the worker `mode` working off a backlog, and the bare route, both
    measured while it works."""
    if args.dunbot_db:  # a fresh database on that PostgreSQL server
        database_url = await fresh_postgres_database(args.dunbot_db, f"dunbot_bench_busy_{mode}")
    else:
        database_url = f"sqlite+aiosqlite:///{workdir / f'busy-{mode}.db'}"
    await asyncio.to_thread(_upgrade, database_url)
    await seed_backlog(database_url, args.backlog)
    server = DunbotServe(
        mode=mode, database_url=database_url, stripe_base=stripe_base, workdir=workdir
    )
    bare = ServerProcess("bare")
    name = f"dunbot, {mode} worker busy"
    try:
        await server.wait_healthy()
        deadline = time.monotonic() + 120  # the worker has started working off the backlog
        while (await jobs_by_status(database_url)).get("succeeded", 0) < 5:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {mode} worker did not start working")
            await asyncio.sleep(0.2)
        for label, url in (("bare", bare.url), (name, server.url)):
            await saturation(label, url, signed_requests(args.warmup), args.concurrency)
        done_before = (await jobs_by_status(database_url)).get("succeeded", 0)
        results = []
        for label, url in (("bare", bare.url), (name, server.url)):
            work = signed_requests(args.requests)
            results.append(await saturation(label, url, work, args.concurrency))
        for label, url in (("bare", bare.url), (name, server.url)):
            work = signed_requests(int(args.rate * args.seconds))
            results.append(await steady(label, url, work, args.rate))
        after = await jobs_by_status(database_url)
    finally:
        bare.stop()
        server.stop()
    for result in results:
        result.scenario += f" ({mode} worker busy)"
    run = BusyRun(
        mode=mode,
        jobs_done_during=after.get("succeeded", 0) - done_before,
        jobs_queued_after=after.get("queued", 0),
        load_average=round(os.getloadavg()[0], 1),
    )
    return results, run


async def fresh_postgres_database(server_url: str, name: str) -> str:
    """Drop and create database `name` on the server of `server_url`; its URL."""
    from sqlalchemy import make_url, text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _upgrade(database_url: str) -> None:
    from storage.migrate import upgrade

    upgrade(database_url)


# --- report ----------------------------------------------------------------------------------


def markdown(results: list[Result], ratios: dict[str, float]) -> str:
    lines = [
        "| scenario | server | requests | errors | req/s | p50 ms | p99 ms | max ms | CPU µs/req |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        cpu = "" if r.cpu_us_per_req is None else f"{r.cpu_us_per_req:.0f}"
        lines.append(
            f"| {r.scenario} | {r.server} | {r.requests} | {r.errors} | {r.req_per_s:.0f} "
            f"| {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.max_ms:.1f} | {cpu} |"
        )
    lines.append("")
    for scenario, ratio in ratios.items():
        lines.append(
            f"- {scenario}: {ratio:.2f}"
            if "CPU" in scenario
            else f"- {scenario}: dunbot/bare = {ratio:.2f}"
        )
    return "\n".join(lines)


async def drive(args: argparse.Namespace, database_url: str) -> tuple[list[Result], int]:
    """Start both servers, run the scenarios against each, count what dunbot stored."""
    stored_before = await count_stored(database_url)
    servers = {"bare": ServerProcess("bare"), "dunbot": ServerProcess("dunbot", database_url)}
    try:
        results: list[Result] = []
        for name, server in servers.items():  # warm up connections, imports, caches
            await saturation(name, server.url, signed_requests(args.warmup), args.concurrency)
        for name, server in servers.items():
            work = signed_requests(args.requests)
            before = server.cpu_ns()
            result = await saturation(name, server.url, work, args.concurrency)
            after = server.cpu_ns()
            if before is not None and after is not None:
                result.cpu_us_per_req = round((after - before) / len(work) / 1000, 1)
            results.append(result)
        for name, server in servers.items():
            work = signed_requests(int(args.rate * args.seconds))
            results.append(await steady(name, server.url, work, args.rate))
    finally:
        for server in servers.values():
            server.stop()
    return results, await count_stored(database_url) - stored_before


def run(args: argparse.Namespace) -> int:
    from storage.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="dunbot-bench-") as tmp:
        database_url = args.dunbot_db or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(database_url)  # runs its own event loop: before ours
        results, stored = ([], 0) if args.busy_only else asyncio.run(drive(args, database_url))
        busy_results, busy_runs = ([], []) if args.no_busy else run_busy(args, Path(tmp))

    ratios: dict[str, float] = {}
    goals: dict[str, bool] = {}
    if results:
        by_key = {(r.server, r.scenario.split()[0]): r for r in results}
        ratios["saturation"] = (
            by_key[("dunbot", "saturation")].req_per_s / by_key[("bare", "saturation")].req_per_s
        )
        bare_cpu = by_key[("bare", "saturation")].cpu_us_per_req
        dunbot_cpu = by_key[("dunbot", "saturation")].cpu_us_per_req
        if bare_cpu and dunbot_cpu:
            ratios["saturation, CPU per request as bare/dunbot"] = bare_cpu / dunbot_cpu
        dunbot_ok = [r for r in results if r.server == "dunbot"]
        expected_stored = args.warmup + args.requests + int(args.rate * args.seconds)
        goals = {
            "saturation throughput >= 0.8x bare": ratios["saturation"] >= GOAL_THROUGHPUT_RATIO,
            f"steady p99 < {GOAL_STEADY_P99_MS:g} ms": by_key[("dunbot", "steady")].p99_ms
            < GOAL_STEADY_P99_MS,
            "no errors": all(r.errors == 0 for r in results),
            "every 200 stored": stored == expected_stored - sum(r.errors for r in dunbot_ok),
        }
    for mode in WORKER_MODES if busy_results else ():
        pair = {
            r.server.split(",")[0]: r
            for r in busy_results
            if r.scenario.startswith("saturation") and r.scenario.endswith(f"({mode} worker busy)")
        }
        label = f"saturation ({mode} worker busy)"
        ratios[label] = pair["dunbot"].req_per_s / pair["bare"].req_per_s
    if busy_results:
        process_steady = next(
            r
            for r in busy_results
            if r.scenario == f"steady {args.rate:g} req/s (process worker busy)"
            and r.server.startswith("dunbot")
        )
        goals[f"worker child busy: saturation >= {GOAL_BUSY_THROUGHPUT_RATIO:g}x bare"] = (
            ratios["saturation (process worker busy)"] >= GOAL_BUSY_THROUGHPUT_RATIO
        )
        goals[f"worker child busy: steady p99 < {GOAL_STEADY_P99_MS:g} ms"] = (
            process_steady.p99_ms < GOAL_STEADY_P99_MS
        )
        goals["worker busy: no errors"] = all(r.errors == 0 for r in busy_results)
    print(markdown(results + busy_results, ratios))
    for busy in busy_runs:
        print(
            f"- {busy.mode} worker: {busy.jobs_done_during} jobs finished during the measurement, "
            f"{busy.jobs_queued_after} still queued after it; load average {busy.load_average}"
        )
    print()
    for goal, met in goals.items():
        print(f"- {'PASS' if met else 'FAIL'} {goal}")
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "database": "postgresql" if args.dunbot_db else "sqlite (WAL, fresh file)",
        "load_average_1m": round(os.getloadavg()[0], 1),
        "results": [asdict(r) for r in results + busy_results],
        "busy_worker": [asdict(b) for b in busy_runs],
        "ratios": ratios,
        "events_stored": stored,
        "goals": goals,
    }
    path = RESULTS_PATH.with_name("ingest-postgresql.json") if args.dunbot_db else RESULTS_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {path.relative_to(REPO_ROOT)}")
    return 0 if all(goals.values()) or not args.strict else 1


def run_busy(args: argparse.Namespace, workdir: Path) -> tuple[list[Result], list[BusyRun]]:
    """Both worker modes, each busy with a backlog, against the bare route in the same run."""
    stripe_server = StripeProcess(args.backlog)
    results: list[Result] = []
    runs: list[BusyRun] = []
    try:
        for mode in WORKER_MODES:
            mode_results, busy = asyncio.run(
                drive_busy(args, mode=mode, stripe_base=stripe_server.base_url, workdir=workdir)
            )
            results += mode_results
            runs.append(busy)
    finally:
        stripe_server.stop()
    return results, runs


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="dunbot webhook ingest benchmark")
    parser.add_argument("--requests", type=int, default=3000, help="saturation requests")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=100.0, help="steady req/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="steady duration")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument(
        "--dunbot-db",
        help="run dunbot on this DATABASE_URL (migrated first) instead of a fresh SQLite file",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument(
        "--backlog", type=int, default=2000, help="queued events keeping the worker busy"
    )
    parser.add_argument("--no-busy", action="store_true", help="skip the runs with the worker busy")
    parser.add_argument(
        "--busy-only", action="store_true", help="only the runs with the worker busy"
    )
    parser.add_argument("--invoices", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--serve", choices=["bare", "dunbot", "stripe"], help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.seconds, args.warmup, args.backlog = 300, 2.0, 50, 300
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve == "stripe":
        serve_stripe(args.invoices)
        return 0
    if args.serve:
        serve(args.serve, args.database_url)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
