"""A real `dunbot worker` killed with SIGKILL after Stripe made the refund but before dunbot
recorded it: the next worker re-reads the charge and the idempotency key holds; one refund."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.models import PlaybookAction, PlaybookActionStatus
from tests.conftest import REPO_ROOT
from tests.fakes.stripe_events import build_event, store_events
from tests.fakes.stripe_server import DEFAULT_API_KEY, FakeStripe

pytestmark = pytest.mark.slow


def start_worker(
    url: str, stripe: FakeStripe, tmp_path: Path, name: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "DUNBOT_CONFIG": str(tmp_path / "none.toml"),
        "DATABASE_URL": url,
        "STRIPE_API_KEY": DEFAULT_API_KEY,
        "STRIPE_API_BASE": stripe.base_url,
        "PLAYBOOKS_FILE": str(REPO_ROOT / "playbooks.example.toml"),
        "EMAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "JOB_LEASE_S": "1",
        "WORKER_POLL_S": "0.1",
        "LOG_FORMAT": "json",
    }
    log = (tmp_path / f"{name}.log").open("wb")
    command = [sys.executable, "-c", "from bot.cli import main; main()", "worker"]
    proc = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=log)
    log.close()
    return proc


async def refund_action(db: Database) -> PlaybookAction | None:
    async with db.sessions() as session:
        return await session.scalar(select(PlaybookAction))


async def test_kill_9_between_the_refund_and_its_record_refunds_once(
    database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    procs: list[subprocess.Popen[bytes]] = []
    with FakeStripe() as stripe:
        try:
            stripe.add_charge(id="ch_k9", amount=1_000)
            warning = stripe.add_early_fraud_warning(charge="ch_k9")
            held = stripe.hold("/v1/refunds", after=True)
            await store_events(db, build_event("radar.early_fraud_warning.created", warning))

            procs.append(start_worker(database_url, stripe, tmp_path, "first"))
            arrived = await asyncio.to_thread(held.arrived.wait, 60)
            assert arrived, (tmp_path / "first.log").read_text()[-3000:]
            assert len(stripe.refunds) == 1  # Stripe made it; the worker never heard back
            procs[0].send_signal(signal.SIGKILL)
            assert procs[0].wait(timeout=10) == -signal.SIGKILL
            stripe.release(held)
            action = await refund_action(db)
            assert action is not None and action.status == PlaybookActionStatus.PENDING

            procs.append(start_worker(database_url, stripe, tmp_path, "second"))
            deadline = time.monotonic() + 60
            while (action := await refund_action(db)) is not None and (
                action.status != PlaybookActionStatus.DONE
            ):
                assert time.monotonic() < deadline, (tmp_path / "second.log").read_text()[-3000:]
                await asyncio.sleep(0.2)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=10)
            await db.dispose()
        assert len(stripe.refunds) == 1
        assert action is not None and action.result == "charge ch_k9 already refunded: nothing done"
