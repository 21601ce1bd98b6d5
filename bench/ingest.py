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
GOAL_STEADY_P99_MS = 50.0


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
        results, stored = asyncio.run(drive(args, database_url))

    by_key = {(r.server, r.scenario.split()[0]): r for r in results}
    ratios = {
        scenario: by_key[("dunbot", scenario)].req_per_s / by_key[("bare", scenario)].req_per_s
        for scenario in ("saturation",)
    }
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
    print(markdown(results, ratios))
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
        "results": [asdict(r) for r in results],
        "ratios": ratios,
        "events_stored": stored,
        "goals": goals,
    }
    path = RESULTS_PATH.with_name("ingest-postgresql.json") if args.dunbot_db else RESULTS_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {path.relative_to(REPO_ROOT)}")
    return 0 if all(goals.values()) or not args.strict else 1


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
    parser.add_argument("--serve", choices=["bare", "dunbot"], help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.seconds, args.warmup = 300, 2.0, 50
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        serve(args.serve, args.database_url)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
