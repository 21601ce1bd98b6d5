"""A worker process that only sends approved emails: the real RecoveryEngine with the real
SmtpMailer (no TLS) and StripeBilling, for tests that SIGKILL it in the middle of a send.

    python -m tests.support.delivery_worker_child --url … --stripe-base http://127.0.0.1:P \
        --smtp-port Q --lease 1 --worker-id worker-a

It claims only `send_email` jobs (drafting and Slack cards stay with the test's own worker);
the rest (ready row, signals) is tests.support.child_worker.
"""

from __future__ import annotations

import argparse

from bot.adapters.mail.smtp import SmtpMailer
from bot.adapters.stripe_billing import StripeBilling
from recovery.config import RecoveryConfig
from recovery.engine import RecoveryEngine
from recovery.jobkinds import JobKind
from storage.db import Database
from tests.fakes.memory import StaticDrafter
from tests.fakes.stripe_server import DEFAULT_API_KEY
from tests.support.child_worker import child_parser, run_child, serve_until_stopped

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
    send_email = engine.job_handlers()[JobKind.SEND_EMAIL]
    try:
        await serve_until_stopped(
            db, {JobKind.SEND_EMAIL: send_email}, worker_id=args.worker_id, lease_s=args.lease
        )
    finally:
        await billing.aclose()
        await db.dispose()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = child_parser(__doc__.splitlines()[0])
    parser.add_argument("--stripe-base", required=True, help="fake Stripe base URL (no /v1)")
    parser.add_argument("--smtp-port", type=int, required=True, help="SMTP port on 127.0.0.1")
    return parser.parse_args(argv)


if __name__ == "__main__":
    run_child(run, parse_args())
