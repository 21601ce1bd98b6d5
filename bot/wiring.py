"""Composition: settings → database, adapters, job handlers, worker, web app."""

from __future__ import annotations

from fastapi import FastAPI

from bot.app import create_app
from bot.logs import configure_logging
from bot.runtime import Runtime
from bot.settings import Settings
from storage.db import Database
from storage.queue import ClaimedJob
from storage.stripe_events import mark_processed
from storage.worker import Worker


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret, so the log redactor can hide it."""
    secrets = [
        settings.stripe_api_key,
        settings.stripe_webhook_secret,
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.openai_api_key,
        settings.anthropic_api_key,
        settings.smtp_password,
        settings.dashboard_token,
    ]
    return [s.get_secret_value() for s in secrets if s is not None]


def build_runtime(settings: Settings) -> Runtime:
    configure_logging(
        fmt=settings.log_format, level=settings.log_level, secrets=secret_values(settings)
    )
    return Runtime(settings=settings, db=Database(settings.database_url))


def build_worker(runtime: Runtime) -> Worker:
    async def process_stripe_event(job: ClaimedJob) -> None:
        async with runtime.db.transaction() as session:
            await mark_processed(session, event_id=job.payload["event_id"], result="ignored")

    return Worker(
        runtime.db,
        {"process_stripe_event": process_stripe_event},
        lease_s=runtime.settings.job_lease_s,
        poll_s=runtime.settings.worker_poll_s,
        observer=runtime.metrics.observe_job,
    )


def build_app(settings: Settings, *, run_worker: bool = True) -> FastAPI:
    runtime = build_runtime(settings)
    return create_app(runtime, worker=build_worker(runtime) if run_worker else None)
