"""A worker process that only sends approved SMS: the real SmsDeliveryService with the real
TwilioSmsSender and StripeBilling, for tests that SIGKILL it in the middle of a send.

    python -m tests.support.sms_worker_child --url … --stripe-base http://127.0.0.1:P \
        --twilio-base http://127.0.0.1:Q --lease 1 --worker-id worker-a

It claims only `send_sms` jobs, with its clock pinned to noon in Berlin (outside quiet hours
whatever the time of day), and writes one `worker_ready` audit row (actor = the worker id)
before its first claim. SIGTERM or SIGINT stops it gracefully; SIGKILL is what tests use.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from datetime import UTC, datetime

from bot.adapters.stripe_billing import StripeBilling
from bot.adapters.twilio_sms import TwilioSmsSender
from recovery.config import RecoveryConfig
from recovery.jobkinds import JobKind
from recovery.sms_delivery import SmsDeliveryService
from storage.db import Database
from storage.models import AuditEntry
from storage.queue import ClaimedJob, RetryPolicy
from storage.worker import Worker
from tests.fakes.stripe_server import DEFAULT_API_KEY
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN

CONFIG = RecoveryConfig(company_name="Acme", email_from="billing@acme.test")
TWILIO_FROM = "+15005550006"
NOON_BERLIN = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)


async def run(args: argparse.Namespace) -> None:
    db = Database(args.url)
    billing = StripeBilling.connect(
        api_key=DEFAULT_API_KEY, api_base=args.stripe_base, max_network_retries=0
    )
    sender = TwilioSmsSender(
        account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, sender=TWILIO_FROM,
        messaging_service_sid=None, api_base=args.twilio_base,
    )  # fmt: skip
    service = SmsDeliveryService(
        db=db, billing=billing, sender=sender, config=CONFIG, clock=lambda: NOON_BERLIN
    )

    async def send_sms(job: ClaimedJob) -> None:
        await service.send(job.payload["sms_id"], final_attempt=job.attempts >= job.max_attempts)

    worker = Worker(
        db,
        {JobKind.SEND_SMS: send_sms},
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
    parser.add_argument("--twilio-base", required=True, help="fake Twilio base URL")
    parser.add_argument("--lease", type=float, default=1.0, help="job lease in seconds")
    parser.add_argument("--worker-id", required=True)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
