"""The fakes of a benchmark run in a child process, so dunbot's own CPU is measured alone.

The child builds a FakeStripe with `events` failed invoices (some customers returning, some
VIP) and a FakeSlack; it sends the base URLs back, serves until told to stop, then sends what
the fakes saw.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

INVOICE_AMOUNT = 4_900
VIP_AMOUNT = 90_000  # over VIP_INVOICE_THRESHOLD (50,000)


@dataclass(frozen=True)
class FakesPlan:
    events: int
    customers: int  # fewer customers than events: the rest are returning customers
    vip_share: float = 0.05


@dataclass
class FakesReport:
    stripe_requests: int = 0
    stripe_by_path: dict[str, int] = field(default_factory=dict)
    slack_calls: dict[str, int] = field(default_factory=dict)
    slack_top_level: dict[str, int] = field(default_factory=dict)
    slack_429: int = 0


def invoice_id(n: int) -> str:
    return f"in_bench{n:06d}"


def customer_id(n: int, plan: FakesPlan) -> str:
    return f"cus_bench{n % plan.customers:06d}"


def is_vip(n: int, plan: FakesPlan) -> bool:
    return plan.vip_share > 0 and n % round(1 / plan.vip_share) == 0


def populate(stripe: Any, plan: FakesPlan, *, number: Callable[[int], str] | None = None) -> None:
    """The plan's customers (each with two paid invoices) and failed invoices; `number`
    names invoice n when given."""
    for c in range(plan.customers):
        stripe.add_customer(id=f"cus_bench{c:06d}", email=f"c{c}@example.com", name=f"C {c}")
        stripe.add_paid_invoices(customer=f"cus_bench{c:06d}", count=2, amount=INVOICE_AMOUNT)
    for n in range(plan.events):
        numbered = {"number": number(n)} if number is not None else {}
        stripe.add_invoice(
            id=invoice_id(n),
            **numbered,
            customer=customer_id(n, plan),
            amount_due=VIP_AMOUNT if is_vip(n, plan) else INVOICE_AMOUNT,
            attempt_count=1,
            next_payment_attempt=2_000_000_000,
        )
        stripe.add_failed_payment(invoice_id(n), decline_code="insufficient_funds")


def _serve(connection: Connection, plan: FakesPlan) -> None:
    from tests.fakes.slack_server import FakeSlack
    from tests.fakes.stripe_server import FakeStripe

    stripe, slack = FakeStripe(), FakeSlack()
    populate(stripe, plan)
    stripe.start()
    slack.start()
    connection.send({"stripe": stripe.base_url, "slack": slack.base_url})
    connection.recv()  # stop
    posts = slack.calls_to("chat.postMessage")
    report = FakesReport(
        stripe_requests=len(stripe.requests),
        stripe_by_path=dict(Counter(_path_kind(r.path) for r in stripe.requests)),
        slack_calls=dict(Counter(call.method for call in slack.calls)),
        slack_top_level=dict(
            Counter(c.args["channel"] for c in posts if not c.args.get("thread_ts"))
        ),
        slack_429=sum(1 for call in slack.calls if call.status == 429),
    )
    connection.send(report)
    stripe.stop()
    slack.stop()


def _path_kind(path: str) -> str:
    parts = path.strip("/").split("/")
    return "/".join(parts[:2]) + ("/{id}" if len(parts) > 2 else "")


class FakesProcess:
    """Start the fakes in a child process; `stop()` returns what they saw."""

    def __init__(self, plan: FakesPlan) -> None:
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, plan), daemon=True)
        started = time.monotonic()
        self._process.start()
        self.urls: dict[str, str] = self._connection.recv()
        self.startup_s = time.monotonic() - started

    def stop(self) -> FakesReport:
        self._connection.send("stop")
        report: FakesReport = self._connection.recv()
        self._process.join(timeout=30)
        return report
