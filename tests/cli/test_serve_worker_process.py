"""`dunbot serve` runs its worker in a supervised child process (issue 18, Throughput).

The real command on a migrated SQLite file (web and worker share the WAL file), against the
fake Stripe: the child processes stored events, is woken at once when one is stored, is
restarted after a kill and finishes the interrupted job, stops with the server (finishing its
running job), and stops by itself when the server is killed. Waits poll the database or
/proc with a timeout, never a fixed sleep.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from storage.migrate import upgrade
from tests.e2e.serve import bound_socket
from tests.fakes.stripe_events import build_event, sign_payload
from tests.fakes.stripe_server import DEFAULT_API_KEY, FakeStripe

pytestmark = pytest.mark.slow

SECRET = "whsec_serve_worker_test"
T = TypeVar("T")


def wait_for(probe: Callable[[], T | None], *, what: str, timeout_s: float = 30) -> T:
    """Poll `probe` every 20 ms until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


class Serve:
    """One `dunbot serve` process and what the test needs to watch it."""

    def __init__(self, tmp_path: Path, stripe: FakeStripe, **env: str) -> None:
        self.db_path = tmp_path / "dunbot.db"
        database_url = f"sqlite+aiosqlite:///{self.db_path}"
        upgrade(database_url)
        sock = bound_socket()
        self.port = sock.getsockname()[1]
        sock.close()
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "STRIPE_", "DATABASE_", "LLM_", "WORKER_", "SERVE_"))
        }
        base.update(
            DUNBOT_CONFIG=str(tmp_path / "absent.toml"),
            DATABASE_URL=database_url,
            STRIPE_API_KEY=DEFAULT_API_KEY,
            STRIPE_API_BASE=stripe.base_url,
            STRIPE_WEBHOOK_SECRET=SECRET,
            LLM_PROVIDER="template",
            EMAIL_BACKEND="file",
            EMAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
            JOB_LEASE_S="2",
            WORKER_POLL_S="30",  # only a wake-up gets a new job picked up within a second
            LOG_FORMAT="console",
        )
        base.update(env)
        self.log_path = tmp_path / "serve.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [str(Path(sys.executable).with_name("dunbot")), "serve", "--port", str(self.port)],
                cwd=tmp_path,
                env=base,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.url = f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def healthy(self) -> bool:
        assert self.proc.poll() is None, self.log()
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def children(self) -> list[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except FileNotFoundError:
            return []

    def worker_pid(self) -> int:
        """The running worker child's pid (waits for one)."""
        children = wait_for(lambda: [p for p in self.children() if alive(p)], what="the child")
        assert len(children) == 1, children
        return children[0]

    def post_failure(self, invoice: dict[str, object]) -> str:
        event = build_event("invoice.payment_failed", invoice)
        body = json.dumps(event).encode()
        response = httpx.post(
            f"{self.url}/stripe/webhook",
            content=body,
            headers={
                "content-type": "application/json",
                "stripe-signature": sign_payload(body, SECRET),
            },
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return str(event["id"])

    def job(self, event_id: str) -> tuple[str, str | None, int] | None:
        """(status, locked_by, attempts) of the event's processing job."""
        with sqlite3.connect(self.db_path) as connection:
            row = connection.execute(
                "SELECT status, locked_by, attempts FROM jobs WHERE kind = 'process_stripe_event'"
                " AND payload LIKE ?",
                (f'%"{event_id}"%',),
            ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def job_status(self, event_id: str) -> str | None:
        job = self.job(event_id)
        return job[0] if job else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def worker_pid_of(locked_by: str | None) -> int:
    """The pid in a worker id (`host:pid:suffix`)."""
    assert locked_by is not None
    return int(locked_by.split(":")[1])


@pytest.fixture
def stripe() -> Iterator[FakeStripe]:
    with FakeStripe() as server:
        yield server


@pytest.fixture
def serve(tmp_path: Path, stripe: FakeStripe) -> Iterator[Serve]:
    served = Serve(tmp_path, stripe)
    children: list[int] = []
    try:
        # 60 s, not the contract's 30: the shared test machine starts two interpreters slowly
        wait_for(served.healthy, what="/healthz", timeout_s=60)
        yield served
    finally:
        children = served.children()
        served.stop()
        for pid in children:  # never leave a worker behind
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def open_invoice(stripe: FakeStripe, name: str) -> dict[str, object]:
    customer = stripe.add_customer(email=f"{name}@example.com", name=name)
    return stripe.add_invoice(customer=customer["id"], amount_due=4900, attempt_count=1)


def test_the_worker_child_processes_stored_events_and_is_woken_at_once(
    serve: Serve, stripe: FakeStripe
) -> None:
    child = serve.worker_pid()
    assert child != serve.proc.pid
    first = serve.post_failure(open_invoice(stripe, "ada"))
    wait_for(lambda: serve.job_status(first) == "succeeded", what="the first event processed")
    job = serve.job(first)
    assert job is not None and worker_pid_of(job[1]) == child  # the child ran it, not the web
    # ... and the web process's /metrics counts the child's job runs
    metric = 'dunbot_job_duration_seconds_count{kind="process_stripe_event",outcome="succeeded"}'
    wait_for(
        lambda: metric in httpx.get(f"{serve.url}/metrics", timeout=5).text,
        what="the child's job run in /metrics",
        timeout_s=5,
    )

    # The child is idle, polling every 30 s: only the wake-up after the commit gets the next
    # event picked up within one second.
    second = serve.post_failure(open_invoice(stripe, "bob"))
    stored = time.monotonic()
    wait_for(
        lambda: serve.job_status(second) in {"running", "succeeded"},
        what="the second event claimed",
        timeout_s=5,
    )
    assert time.monotonic() - stored < 1.0, serve.log()


def test_a_killed_child_is_restarted_and_finishes_the_job_then_sigterm_stops_both(
    serve: Serve, stripe: FakeStripe
) -> None:
    first_child = serve.worker_pid()
    invoice = open_invoice(stripe, "cleo")
    held = stripe.hold(f"/v1/invoices/{invoice['id']}")
    event_id = serve.post_failure(invoice)
    assert held.arrived.wait(30), serve.log()
    job = serve.job(event_id)
    assert job is not None and job[0] == "running" and worker_pid_of(job[1]) == first_child

    os.kill(first_child, signal.SIGKILL)
    second_child = wait_for(
        lambda: next((p for p in serve.children() if p != first_child and alive(p)), None),
        what="a new worker child",
    )
    stripe.release(held)
    wait_for(lambda: serve.job_status(event_id) == "succeeded", what="the job finished")
    job = serve.job(event_id)
    assert job is not None and worker_pid_of(job[1]) == second_child and job[2] == 2

    # SIGTERM while the child is inside a job: the job finishes, then both processes exit.
    late = open_invoice(stripe, "dan")
    held = stripe.hold(f"/v1/invoices/{late['id']}")
    late_event = serve.post_failure(late)
    assert held.arrived.wait(30), serve.log()
    serve.proc.send_signal(signal.SIGTERM)
    stripe.release(held)
    # uvicorn re-raises the signal once its shutdown is complete
    assert serve.proc.wait(timeout=40) in {0, -signal.SIGTERM}, serve.log()
    assert "Application shutdown complete" in serve.log()
    assert "worker process stopped" in serve.log()
    assert not alive(second_child)
    assert serve.job_status(late_event) == "succeeded"


def test_the_child_stops_by_itself_when_the_server_is_killed(serve: Serve) -> None:
    child = serve.worker_pid()
    serve.proc.kill()
    serve.proc.wait(timeout=10)
    wait_for(lambda: not alive(child), what="the orphaned child to stop")
