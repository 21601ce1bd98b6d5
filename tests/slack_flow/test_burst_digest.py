"""A burst of failures keeps the channel readable: a digest with the later cards threaded."""

from __future__ import annotations

from bot.slack.notifier import BURST_THRESHOLD
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
