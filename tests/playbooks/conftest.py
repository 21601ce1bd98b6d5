"""dunbot wired with the example playbooks against the fake Stripe and Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import AuditEntry, PlaybookAction, PlaybookFiring
from tests.conftest import REPO_ROOT
from tests.fakes.slack_server import FakeSlack
from tests.fakes.stripe_events import build_event, store_events
from tests.fakes.stripe_server import FakeStripe
from tests.slack_flow.conftest import SlackHarness, wired_harness
from tests.slack_flow.conftest import fake_slack as fake_slack  # noqa: F401 - a fixture
from tests.slack_flow.conftest import fake_stripe as fake_stripe  # noqa: F401 - a fixture

ALERTS = "CALERTS"
COLLECTIONS = "CCOLLECT"
TEAM = "team@example.com"
EXAMPLE = REPO_ROOT / "playbooks.example.toml"


async def deliver(harness: SlackHarness, event_type: str, obj: dict[str, Any], **kw: Any) -> dict:
    """Store a Stripe event as the webhook would and run every job it leads to."""
    event = build_event(event_type, obj, **kw)
    await store_events(harness.runtime.db, event)
    await harness.worker.run_until_idle()
    return event


async def actions(harness: SlackHarness) -> list[PlaybookAction]:
    async with harness.runtime.db.sessions() as session:
        return list(
            (await session.scalars(select(PlaybookAction).order_by(PlaybookAction.id))).all()
        )


async def firings(harness: SlackHarness) -> list[PlaybookFiring]:
    async with harness.runtime.db.sessions() as session:
        return list(
            (await session.scalars(select(PlaybookFiring).order_by(PlaybookFiring.id))).all()
        )


async def audit_actions(harness: SlackHarness) -> list[AuditEntry]:
    async with harness.runtime.db.sessions() as session:
        query = (
            select(AuditEntry).where(AuditEntry.action.like("playbook.%")).order_by(AuditEntry.id)
        )
        return list((await session.scalars(query)).all())


@asynccontextmanager
async def playbook_harness(
    database_url: str,
    slack: FakeSlack,
    stripe: FakeStripe,
    tmp_path: Path,
    *,
    rules: Path = EXAMPLE,
    **settings: Any,
) -> AsyncIterator[SlackHarness]:
    """dunbot wired to the fakes with a rules file, alerts/collections channels, TEAM_EMAIL."""
    async with wired_harness(
        database_url,
        slack,
        stripe,
        tmp_path,
        email_backend="file",
        email_outbox_dir=tmp_path / "outbox",
        playbooks_file=rules,
        slack_alerts_channel=ALERTS,
        slack_collections_channel=COLLECTIONS,
        team_email=TEAM,
        **settings,
    ) as harness:
        yield harness


@pytest.fixture
async def pb(
    database_url: str, fake_slack: FakeSlack, fake_stripe: FakeStripe, tmp_path: Path
) -> AsyncIterator[SlackHarness]:
    """The example playbooks, live."""
    async with playbook_harness(database_url, fake_slack, fake_stripe, tmp_path) as harness:
        yield harness


@pytest.fixture
async def pb_dry(
    database_url: str, fake_slack: FakeSlack, fake_stripe: FakeStripe, tmp_path: Path
) -> AsyncIterator[SlackHarness]:
    """The example playbooks with PLAYBOOKS_DRY_RUN=true."""
    async with playbook_harness(
        database_url, fake_slack, fake_stripe, tmp_path, playbooks_dry_run=True
    ) as harness:
        yield harness
