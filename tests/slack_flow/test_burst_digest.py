"""A burst of failures keeps the channel readable: a digest with the later cards threaded."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from bot.slack.digests import BURST_THRESHOLD
from recovery.batches import BatchPolicy
from recovery.jobkinds import JobKind
from storage.models import Job
from storage.worker import Worker
from tests.fakes.stripe_events import build_event, store_events
from tests.slack_flow.conftest import APPROVALS, SlackHarness, add_standard, message_text


async def test_burst_of_failures_is_summarised_in_a_digest_thread(sh: SlackHarness) -> None:
    count = BURST_THRESHOLD + 3
    for n in range(count):
        add_standard(
            sh.stripe,
            f"in_burst{n}",
            customer=f"cus_burst{n}",
            email=f"c{n}@example.com",
            name=f"Customer {n}",
        )
        await sh.fail(f"in_burst{n}")
    posts = [c for c in sh.slack.calls_to("chat.postMessage") if c.args["channel"] == APPROVALS]
    top_level = [c for c in posts if not c.args.get("thread_ts")]
    threaded = [c for c in posts if c.args.get("thread_ts")]
    # The first cards stand alone; then one digest; the rest of the burst goes in its thread.
    assert len(top_level) == BURST_THRESHOLD + 1 and len(threaded) == count - BURST_THRESHOLD
    digest = top_level[BURST_THRESHOLD]
    digest_ts = digest.response["ts"]
    assert {c.args["thread_ts"] for c in threaded} == {digest_ts}
    current = sh.slack.message(APPROVALS, digest_ts)
    text = message_text(current)
    assert f"{count - BURST_THRESHOLD} payments failed" in text
    for n in range(BURST_THRESHOLD, count):
        assert f"c{n}@example.com" in text


async def test_twenty_notify_jobs_of_one_burst_at_once_post_one_digest(sh: SlackHarness) -> None:
    assert sh.runtime.slack is not None
    sh.runtime.slack.notifier.batch_policy = BatchPolicy(threshold=0)  # one card per draft
    count = 20
    for n in range(count):
        add_standard(sh.stripe, f"in_race{n}", customer=f"cus_race{n}", email=f"r{n}@example.com")
        event = build_event("invoice.payment_failed", sh.stripe.update_invoice(f"in_race{n}"))
        await store_events(sh.runtime.db, event)
    handlers = dict(sh.worker.handlers)
    notify = handlers.pop(JobKind.NOTIFY)
    await Worker(sh.runtime.db, handlers).run_until_idle()  # events and drafts, no cards yet

    outcomes: list[str] = []
    all_done = asyncio.Event()

    def observe(*, kind: str, outcome: str, duration_s: float) -> None:
        outcomes.append(outcome)
        if outcomes.count("succeeded") == 2 * count:  # each card, then its digest refresh
            all_done.set()

    cards = Worker(
        sh.runtime.db,
        {JobKind.NOTIFY: notify},
        concurrency=count,
        poll_s=0.05,
        observer=observe,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(cards.run(stop))
    await asyncio.wait_for(all_done.wait(), 30)
    stop.set()
    await running

    assert set(outcomes) <= {"succeeded", "rescheduled"}  # nobody failed on the digest
    posts = [c for c in sh.slack.calls_to("chat.postMessage") if c.args["channel"] == APPROVALS]
    top_level = [c for c in posts if not c.args.get("thread_ts")]
    assert len(top_level) == 1
    digest_ts = top_level[0].response["ts"]
    assert all(c.args.get("thread_ts") == digest_ts for c in posts[1:]) and len(posts) == 21
    assert f"{count} payments failed" in message_text(sh.slack.message(APPROVALS, digest_ts))
    assert "0 payments" not in json.dumps(top_level[0].args)


async def test_digest_refreshes_are_jobs_run_one_at_a_time_per_digest(sh: SlackHarness) -> None:
    """A card joining the thread queues the digest's refresh under one serial key, so two
    refreshes never race and an older count is never written after a newer one."""
    count = BURST_THRESHOLD + 3
    for n in range(count):
        add_standard(sh.stripe, f"in_ser{n}", customer=f"cus_ser{n}", email=f"s{n}@example.com")
        await sh.fail(f"in_ser{n}")
    async with sh.runtime.db.sessions() as session:
        notify_jobs = (await session.scalars(select(Job).where(Job.kind == JobKind.NOTIFY))).all()
    refreshes = [job for job in notify_jobs if job.payload.get("call") == "sync_digest"]
    assert len(refreshes) == count - BURST_THRESHOLD
    assert len({job.serial_key for job in refreshes}) == 1
