"""The composition root's state: settings, database, metrics and the wired adapters."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.metrics import Metrics
from bot.settings import Settings
from recovery.customers.service import CustomerFactsService
from recovery.engine import RecoveryEngine
from recovery.plans.service import PlanService
from recovery.playbooks.rules import EMPTY_PLAYBOOK, Playbook
from recovery.playbooks.runner import PlaybookRunner
from recovery.protocols import BillingReader
from storage.batch_ingest import BatchIngestWriter
from storage.db import Database

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.slack.notifier import SlackNotifier


@dataclass(frozen=True, kw_only=True)
class SlackParts:
    """The Slack adapter: one Web API client shared by the notifier and the Bolt app."""

    client: AsyncWebClient
    notifier: SlackNotifier
    bolt: AsyncApp


@dataclass(frozen=True, kw_only=True)
class Runtime:
    """Everything a request handler or job handler needs, built once by `bot.wiring`.

    `resources` owns what must be closed on shutdown (database, ingest writer, HTTP clients);
    whoever runs the runtime (the app's lifespan, `dunbot worker`) enters it.
    """

    settings: Settings
    db: Database
    metrics: Metrics = field(default_factory=Metrics)
    engine: RecoveryEngine | None = None
    billing: BillingReader | None = None
    slack: SlackParts | None = None
    playbook: Playbook = EMPTY_PLAYBOOK
    playbooks: PlaybookRunner | None = None
    customers: CustomerFactsService | None = None
    plans: PlanService | None = None
    resources: AsyncExitStack = field(default_factory=AsyncExitStack, repr=False, compare=False)
    ingest: BatchIngestWriter = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ingest", BatchIngestWriter(self.db))
        # Last in, first out: the ingest writer flushes before the database is disposed.
        self.resources.push_async_callback(self.db.dispose)
        self.resources.push_async_callback(self.ingest.close)

    async def open_clients(self) -> None:
        """Start what needs a running event loop: one HTTP session for Slack's Web API (reused
        across calls instead of one per call), closed with the other resources."""
        if self.slack is None or self.slack.client.session is not None:
            return
        import aiohttp

        client = self.slack.client
        client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=client.timeout))
        self.resources.push_async_callback(client.session.close)

    def require_billing(self) -> BillingReader:
        """The billing reader; a runtime built without one cannot run jobs."""
        if self.billing is None:
            raise RuntimeError("this runtime has no billing (build it with build_runtime)")
        return self.billing

    def require_engine(self) -> RecoveryEngine:
        """The recovery engine; a runtime built without one cannot run jobs."""
        if self.engine is None:
            raise RuntimeError("this runtime has no recovery engine (build it with build_runtime)")
        return self.engine
