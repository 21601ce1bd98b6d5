"""The fakes of the end-to-end burst bench, in a child process of their own.

Stripe (the plan's failed invoices, each with a unique number `BENCH-<n>`), Slack (paced per
channel as Slack paces posting, 429 with Retry-After beyond it) and OpenAI (every answer after
`llm_latency_s`). The parent asks `status` while the burst runs (which draft invoices are
reviewable in Slack, and since when) and `stop` at the end (what the fakes saw).
"""

from __future__ import annotations

import json
import multiprocessing
import re
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from bench.fakes_process import FakesPlan, FakesReport, _path_kind, populate

APPROVALS, VIP = "CAPPROVALS", "CVIP"
BASELINE_CHANNEL = "CBASELINE"
NUMBER = re.compile(r"BENCH-\d{6}")
_POSTING = ("chat.postMessage", "chat.update")


def invoice_number(n: int) -> str:
    return f"BENCH-{n:06d}"


@dataclass(frozen=True)
class E2EPlan:
    fakes: FakesPlan
    llm_latency_s: float = 1.0
    slack_pace_s: float = 1.0


@dataclass
class E2EReport(FakesReport):
    llm_spans: list[tuple[float, float]] = field(default_factory=list)
    reviewable_at: dict[str, float] = field(default_factory=dict)
    batch_versions: dict[str, float] = field(default_factory=dict)


def _is_actionable(args: dict[str, Any]) -> bool:
    """A message a person can act on: it carries buttons (a card, a batch message)."""
    blocks = args.get("blocks") or []
    return any(isinstance(b, dict) and b.get("type") == "actions" for b in blocks)


def _batch_refs(blocks: list[Any]) -> set[str]:
    """ "<id>:<version>" of the batch a message's buttons act on (every draft listed at that
    version is actionable through Approve all / Review one by one, shown or counted)."""
    refs = set()
    for block in blocks:
        if not isinstance(block, dict) or block.get("type") != "actions":
            continue
        for element in block.get("elements") or []:
            try:
                value = json.loads(element.get("value") or "")
            except (TypeError, ValueError):
                continue
            if isinstance(value, dict) and value.get("kind") == "batch":
                refs.add(f"{value.get('id')}:{value.get('version')}")
    return refs


class ReviewTracker:
    """Invoice number → when a message with buttons naming it was first accepted by Slack.

    Reads the fake's call log incrementally (it only grows), so polling it stays cheap."""

    def __init__(self) -> None:
        self.since: dict[str, float] = {}
        self.batch_versions: dict[str, float] = {}  # "<batch id>:<version>" → first shown
        self._read = 0

    def update(self, calls: list[Any]) -> dict[str, float]:
        for call in calls[self._read :]:
            if call.method not in _POSTING or call.status != 200 or not call.response.get("ok"):
                continue
            if call.args.get("channel") != APPROVALS or not _is_actionable(call.args):
                continue
            text = json.dumps(call.args.get("blocks")) + str(call.args.get("text") or "")
            for number in NUMBER.findall(text):
                self.since.setdefault(number, call.at)
            for batch in _batch_refs(call.args.get("blocks") or []):
                self.batch_versions.setdefault(batch, call.at)
        self._read = len(calls)
        return self.since


def _serve(connection: Connection, plan: E2EPlan) -> None:
    from tests.fakes.llm_servers import FakeOpenAI
    from tests.fakes.slack_server import FakeSlack
    from tests.fakes.stripe_server import FakeStripe

    stripe, slack = FakeStripe(), FakeSlack(channel_pace_s=plan.slack_pace_s)
    llm = FakeOpenAI()
    llm.latency_s = plan.llm_latency_s
    populate(stripe, plan.fakes, number=invoice_number)
    stripe.start()
    slack.start()
    llm.start()
    connection.send({"stripe": stripe.base_url, "slack": slack.base_url, "openai": llm.base_url})
    tracker = ReviewTracker()
    while connection.recv() == "status":
        connection.send(
            {
                "reviewable_at": tracker.update(slack.calls),
                "batch_versions": tracker.batch_versions,
            }
        )
    posts = [c for c in slack.calls_to("chat.postMessage") if c.status == 200]
    connection.send(
        E2EReport(
            stripe_requests=len(stripe.requests),
            stripe_by_path=dict(Counter(_path_kind(r.path) for r in stripe.requests)),
            slack_calls=dict(Counter(call.method for call in slack.calls)),
            slack_top_level=dict(
                Counter(c.args["channel"] for c in posts if not c.args.get("thread_ts"))
            ),
            slack_429=sum(
                1
                for call in slack.calls
                if call.status == 429 and call.args.get("channel") != BASELINE_CHANNEL
            ),
            llm_spans=llm.spans,
            reviewable_at=tracker.update(slack.calls),
            batch_versions=tracker.batch_versions,
        )
    )
    for server in (llm, slack, stripe):
        server.stop()


class E2EFakes:
    """Start the fakes in a child process; `status()` while running, `stop()` at the end."""

    def __init__(self, plan: E2EPlan) -> None:
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, plan), daemon=True)
        self._process.start()
        self.urls: dict[str, str] = self._connection.recv()

    def status(self) -> dict[str, Any]:
        self._connection.send("status")
        status: dict[str, Any] = self._connection.recv()
        return status

    def stop(self) -> E2EReport:
        self._connection.send("stop")
        report: E2EReport = self._connection.recv()
        self._process.join(timeout=30)
        return report
