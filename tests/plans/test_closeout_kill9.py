"""A real `dunbot worker` killed with SIGKILL after Stripe marked the invoice uncollectible but
before dunbot recorded it: the next worker re-reads the invoice and finishes the close-out; one
cancellation, one mark-uncollectible."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

import pytest

from storage.models import CasePlanStatus, CaseStatus
from tests.plans.conftest import INVOICE, SUBSCRIPTION, case_of, case_plan
from tests.plans.test_closeout import through_the_plan, writes
from tests.playbooks.test_refund_kill9 import start_worker
from tests.slack_flow.conftest import FINANCE, SlackHarness

pytestmark = pytest.mark.slow


async def test_kill_9_mid_close_out_cancels_once_and_marks_once(
    ph: SlackHarness, database_url: str, tmp_path: Path
) -> None:
    card = await through_the_plan(ph)
    held = ph.stripe.hold(f"/v1/invoices/{INVOICE}/mark_uncollectible", after=True)
    response = await ph.click("plan_closeout_approve", FINANCE, card)
    assert response.status_code == 200  # the decision and its first write are queued

    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(start_worker(database_url, ph.stripe, tmp_path, "first"))
        arrived = await asyncio.to_thread(held.arrived.wait, 60)
        assert arrived, (tmp_path / "first.log").read_text()[-3000:]
        assert ph.stripe.update_invoice(INVOICE)["status"] == "uncollectible"
        procs[0].send_signal(signal.SIGKILL)
        assert procs[0].wait(timeout=10) == -signal.SIGKILL
        ph.stripe.release(held)
        assert (await case_plan(ph.runtime.db)).status == CasePlanStatus.CLOSING

        procs.append(start_worker(database_url, ph.stripe, tmp_path, "second"))
        deadline = time.monotonic() + 60
        while (await case_plan(ph.runtime.db)).status != CasePlanStatus.CLOSED:
            assert time.monotonic() < deadline, (tmp_path / "second.log").read_text()[-3000:]
            await asyncio.sleep(0.2)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)

    cancels, marks = writes(ph)
    assert len(cancels) == 1 and len(marks) == 1
    assert ph.stripe.subscription(SUBSCRIPTION)["status"] == "canceled"
    assert (await case_of(ph.runtime.db)).status == CaseStatus.UNCOLLECTIBLE
