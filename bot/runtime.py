"""The composition root's state: settings, database, metrics and the wired adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.metrics import Metrics
from bot.settings import Settings
from storage.batch_ingest import BatchIngestWriter
from storage.db import Database


@dataclass
class Runtime:
    """Everything a request handler or job handler needs, built once at start-up."""

    settings: Settings
    db: Database
    metrics: Metrics = field(default_factory=Metrics)
    extras: dict[str, Any] = field(default_factory=dict)
    ingest: BatchIngestWriter = field(init=False)

    def __post_init__(self) -> None:
        self.ingest = BatchIngestWriter(self.db)
