"""In a burst, work that lets a person act is claimed before bookkeeping."""

from __future__ import annotations

import dataclasses

import pytest

from recovery.config import RecoveryConfig
from recovery.jobkinds import JobKind
from storage import queue
from storage.worker import Worker
from tests.recovery.conftest import Harness
from tests.recovery.test_case_flow import standard_invoice


@pytest.fixture
def recovery_config(recovery_config: RecoveryConfig) -> RecoveryConfig:
    return dataclasses.replace(recovery_config, refresh_customer_facts=True)


async def _process_events_only(h: Harness) -> None:
    handlers = h.engine.job_handlers()
    only_events = {JobKind.PROCESS_STRIPE_EVENT: handlers[JobKind.PROCESS_STRIPE_EVENT]}
    await Worker(h.db, only_events).run_until_idle()


async def test_drafts_are_claimed_before_older_customer_facts_refreshes(h: Harness) -> None:
    for n in range(3):
        standard_invoice(h, invoice_id=f"in_burst_{n}", customer=f"cus_burst_{n}")
        await h.deliver("invoice.payment_failed", f"in_burst_{n}")
    await _process_events_only(h)
    refreshes = await h.jobs(JobKind.REFRESH_CUSTOMER)
    drafts = await h.jobs(JobKind.DRAFT_EMAIL)
    assert len(refreshes) == 3 and len(drafts) == 3
    assert min(job.id for job in refreshes) < max(job.id for job in drafts)  # a mixed backlog

    claimed = []
    for _ in range(6):
        job = await queue.claim(
            h.db,
            worker_id="w",
            lease_s=30,
            kinds=[JobKind.DRAFT_EMAIL, JobKind.REFRESH_CUSTOMER],
        )
        assert job is not None
        claimed.append(job.kind)
    assert claimed == [JobKind.DRAFT_EMAIL] * 3 + [JobKind.REFRESH_CUSTOMER] * 3
