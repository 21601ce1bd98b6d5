"""A worker process that only sends approved emails: the real RecoveryEngine with the real
SmtpMailer (no TLS) and StripeBilling, for tests that SIGKILL it in the middle of a send.

    python -m tests.support.delivery_worker_child --url … --stripe-base http://127.0.0.1:P \
        --smtp-port Q --lease 1 --worker-id worker-a

It claims only `send_email` jobs (drafting and Slack cards stay with the test's own worker)
and writes one `worker_ready` audit row (actor = the worker id) before its first claim.
SIGTERM or SIGINT stops it gracefully; SIGKILL is what the tests use to crash it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from bot.adapters.mail.smtp import SmtpMailer
from bot.adapters.stripe_billing import StripeBilling
from recovery.config import RecoveryConfig
from recovery.engine import RecoveryEngine
from recovery.jobkinds import JobKind
from storage.db import Database
from storage.models import AuditEntry
from storage.queue import RetryPolicy
from storage.worker import Worker
from tests.fakes.memory import StaticDrafter
from tests.fakes.stripe_server import DEFAULT_API_KEY

CONFIG = RecoveryConfig(company_name="Acme", email_from="billing@acme.test")


async def run(args: argparse.Namespace) -> None:
    db = Database(args.url)
    billing = StripeBilling.connect(
        api_key=DEFAULT_API_KEY, api_base=args.stripe_base, max_network_retries=0
    )
    mailer = SmtpMailer(host="127.0.0.1", port=args.smtp_port, tls_mode="none", timeout_s=10)
    engine = RecoveryEngine(
        db=db, billing=billing, drafter=StaticDrafter(), mailer=mailer, notifier=None, config=CONFIG
    )
    handlers = engine.job_handlers()
    worker = Worker(
        db,
        {JobKind.SEND_EMAIL: handlers[JobKind.SEND_EMAIL]},
        worker_id=args.worker_id,
        lease_s=args.lease,
        poll_s=0.1,
        concurrency=1,
        retry_policy=RetryPolicy(base_s=0.2, jitter=0.0),
        shutdown_grace_s=5.0,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with db.transaction() as session:
            session.add(AuditEntry(actor=args.worker_id, action="worker_ready", detail={}))
        await worker.run(stop)
    finally:
        await billing.aclose()
        await db.dispose()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="DATABASE_URL of a migrated database")
    parser.add_argument("--stripe-base", required=True, help="fake Stripe base URL (no /v1)")
    parser.add_argument("--smtp-port", type=int, required=True, help="SMTP port on 127.0.0.1")
    parser.add_argument("--lease", type=float, default=1.0, help="job lease in seconds")
    parser.add_argument("--worker-id", required=True)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
