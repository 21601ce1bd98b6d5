"""The LLM call budget shared by every worker process, kept in the database.

LLM_REQUESTS_PER_MINUTE caps the calls admitted in any sliding minute across all processes
(0: no budget). A provider's 429 with a Retry-After stops every process's calls until then.
A call that may not go now raises ProviderDeferred: the draft job is re-queued for when a
call is free (plus a spread, so waiting drafts do not all come back at once) and gives its
worker slot back; it is never dropped to the template for lack of budget.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from recovery.drafting.provider import ProviderDeferred
from storage import rate_limits
from storage.db import Database
from storage.models import utcnow

LLM_RATE_LIMIT = "llm"
# A deferred draft comes back when the next call is free plus up to this much: enough to
# spread a waiting burst over the minute instead of every draft retrying at the same instant.
BUDGET_SPREAD_S = 30.0
PROVIDER_SPREAD_S = 1.0


class SharedLLMBudget:
    """Admits LLM calls against the shared per-minute budget and the provider's hold."""

    def __init__(
        self,
        *,
        db: Database,
        requests_per_minute: int,
        clock: Callable[[], datetime] = utcnow,
        name: str = LLM_RATE_LIMIT,
    ) -> None:
        self.db = db
        self.requests_per_minute = requests_per_minute
        self.clock = clock
        self.name = name

    async def admit(self) -> None:
        """Return when one call may go now (and count it); else raise ProviderDeferred."""
        admission = await rate_limits.admit(
            self.db, name=self.name, limit=self.requests_per_minute, now=self.clock()
        )
        if admission.admitted:
            return
        if admission.reason == "budget":
            delay = admission.wait_s + random.uniform(0, BUDGET_SPREAD_S)
            reason = f"budget of {self.requests_per_minute} requests per minute spent"
        else:
            delay = admission.wait_s + random.uniform(0, PROVIDER_SPREAD_S)
            reason = "the provider asked to wait (429 Retry-After)"
        raise ProviderDeferred(delay_s=delay, reason=reason)

    async def hold_for(self, seconds: float) -> None:
        """No process calls the provider for `seconds` (its 429 Retry-After)."""
        until = self.clock() + timedelta(seconds=seconds)
        await rate_limits.hold(self.db, name=self.name, until=until)
