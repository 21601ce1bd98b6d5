"""`dunbot demo`: the whole product on SQLite, sandbox billing and a sandbox Slack at /sandbox.

Use: `build_demo_app(demo_settings(port=8000), port=8000)` then serve it with uvicorn on
127.0.0.1:8000 (the database must be migrated first; `dunbot demo` does all three).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from bot.app import create_app
from bot.playbooks.loading import example_playbooks_path
from bot.sandbox.billing import seed_demo
from bot.sandbox.page import SandboxDemo, SandboxUser, sandbox_router
from bot.sandbox.slack_api import SandboxSlack, slack_api_router
from bot.sandbox.stripe_events import WriteEvents
from bot.settings import Settings
from bot.wiring import build_runtime, build_worker

DEMO_DATABASE_URL = "sqlite+aiosqlite:///./dunbot-demo.db"
DEMO_BOT_TOKEN = "xoxb-sandbox"
APPROVALS_CHANNEL = "CAPPROVALS"
VIP_CHANNEL = "CVIPTASKS"
FINANCE = "UFINANCE"
ACCOUNT_MANAGER = "UACCTMGR"
OUTSIDER = "UOUTSIDER"
DEMO_USERS = [
    SandboxUser(FINANCE, "Fran (finance)", "Finance approver: approves and rejects emails"),
    SandboxUser(ACCOUNT_MANAGER, "Alex (account manager)", "Account manager: claims VIP tasks"),
    SandboxUser(OUTSIDER, "Olly (outsider)", "Neither: may look, may not act"),
]
DEMO_CHANNELS = {APPROVALS_CHANNEL: "dunning-approvals", VIP_CHANNEL: "vip-tasks"}


def sandbox_api_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/sandbox/slack/api/"


def demo_settings(*, port: int, **overrides: Any) -> Settings:
    """Settings for the demo: sandbox Slack on this app, fresh secrets, the template drafter.

    DATABASE_URL and the LLM keys are still taken from the environment when set; the rest is
    fixed so the demo never reaches anything outside this process.
    """
    has_llm_key = bool(os.environ.get("OPENAI_API_KEY") or os.environ.get("ANTHROPIC_API_KEY"))
    values: dict[str, Any] = {
        "environment": "demo",
        "database_url": os.environ.get("DATABASE_URL") or DEMO_DATABASE_URL,
        "stripe_api_key": None,
        "stripe_webhook_secret": "whsec_" + secrets.token_hex(24),
        "slack_bot_token": DEMO_BOT_TOKEN,
        "slack_signing_secret": secrets.token_hex(16),
        "slack_app_token": None,
        "slack_api_url": sandbox_api_url(port),
        "slack_approvals_channel": APPROVALS_CHANNEL,
        "slack_vip_channel": VIP_CHANNEL,
        "finance_approvers": [FINANCE],
        "account_managers": [ACCOUNT_MANAGER],
        "vip_claim_sla": "10m",
        "email_backend": "file",
        "email_outbox_dir": Path("./outbox"),
        "job_lease_s": 10.0,
        "worker_poll_s": 0.25,
        "playbooks_file": example_playbooks_path(),
        "team_email": "team@example.com",
    }
    if not has_llm_key:
        values["llm_provider"] = "template"
    values.update(overrides)
    return Settings(**values)


def build_demo_app(settings: Settings, *, port: int, configure_logs: bool = True) -> FastAPI:
    """The web app with the in-process worker, sandbox billing and the sandbox Slack page.

    `settings.slack_api_url` must point at this app's `/sandbox/slack/api/` on `port`
    (`demo_settings` does that); the database must already be migrated.
    """
    assert settings.slack_signing_secret is not None and settings.slack_bot_token is not None
    assert settings.stripe_webhook_secret is not None
    expected = sandbox_api_url(port)
    if settings.slack_api_url != expected:
        raise ValueError(f"SLACK_API_URL must be {expected} for the demo")
    billing = seed_demo()
    runtime = build_runtime(settings, billing=billing, configure_logs=configure_logs)
    slack = SandboxSlack(token=settings.slack_bot_token.get_secret_value(), channels=DEMO_CHANNELS)
    demo = SandboxDemo(
        slack=slack,
        billing=billing,
        users=DEMO_USERS,
        slack_signing_secret=settings.slack_signing_secret.get_secret_value(),
        stripe_webhook_secret=settings.stripe_webhook_secret.get_secret_value(),
        outbox_dir=settings.email_outbox_dir,
    )
    app = create_app(runtime, worker=build_worker(runtime))
    app.include_router(slack_api_router(slack))
    app.include_router(sandbox_router(demo))  # create_app already serves /dashboard
    app.state.sandbox = demo
    # Stripe sends an event for each of dunbot's writes too (a plan's retry, its close-out).
    app.state.sandbox_write_events = billing.on_write = WriteEvents(
        app, secret=demo.stripe_webhook_secret
    )
    return app


def reset_demo_db(path: Path = Path("./dunbot-demo.db")) -> None:
    """Remove the demo's SQLite file (and its WAL files) so a run starts from scratch."""
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        candidate.unlink(missing_ok=True)


def reset_demo_outbox(directory: Path) -> int:
    """Remove earlier runs' `.eml` files (only those) so the outbox holds this run's emails."""
    if not directory.is_dir():
        return 0
    removed = 0
    for path in directory.glob("*.eml"):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    return removed
