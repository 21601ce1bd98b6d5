"""A worker process that only sends approved SMS: the real SmsDeliveryService with the real
TwilioSmsSender and StripeBilling, for tests that SIGKILL it in the middle of a send.

    python -m tests.support.sms_worker_child --url … --stripe-base http://127.0.0.1:P \
        --twilio-base http://127.0.0.1:Q --lease 1 --worker-id worker-a

It claims only `send_sms` jobs, with its clock pinned to noon in Berlin (outside quiet hours
whatever the time of day); the rest (ready row, signals) is tests.support.child_worker.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from bot.adapters.stripe_billing import StripeBilling
from bot.adapters.twilio_sms import TwilioSmsSender
from recovery.config import RecoveryConfig
from recovery.jobkinds import JobKind
from recovery.sms_delivery import SmsDeliveryService
from storage.db import Database
from storage.queue import ClaimedJob
from tests.fakes.stripe_server import DEFAULT_API_KEY
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN
from tests.support.child_worker import child_parser, run_child, serve_until_stopped

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

    try:
        await serve_until_stopped(
            db, {JobKind.SEND_SMS: send_sms}, worker_id=args.worker_id, lease_s=args.lease
        )
    finally:
        await billing.aclose()
        await db.dispose()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = child_parser(__doc__.splitlines()[0])
    parser.add_argument("--stripe-base", required=True, help="fake Stripe base URL (no /v1)")
    parser.add_argument("--twilio-base", required=True, help="fake Twilio base URL")
    return parser.parse_args(argv)


if __name__ == "__main__":
    run_child(run, parse_args())
