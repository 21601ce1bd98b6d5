"""Slack's posting pace shared by every worker process, kept in the database.

Slack lets about one message per second into a channel. `SharedChannelPacer` hands out each
channel's next posting slot from `storage.rate_limits.take_slot`, so two worker processes
together keep that pace (the in-memory `ChannelPacer` paces one process only). It behaves as
`ChannelPacer` does: a post whose slot is at most one interval away waits for it; a keyed post
(a card, a batch message) further away gives its worker slot back (RetryLater) and its slot
is kept for it, in whichever process its job runs next; an unkeyed post waits up to five
intervals.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from storage import rate_limits
from storage.db import Database
from storage.models import utcnow
from storage.queue import RetryLater

MIN_POST_INTERVAL_S = 1.0
PACE_NAME_PREFIX = "slack_post:"
UNKEYED_MAX_WAIT_INTERVALS = 5


class Pacer(Protocol):
    """Waits for a channel's posting turn, or raises RetryLater when it is far away."""

    interval_s: float

    async def wait_turn(self, channel: str, *, key: str | None = None) -> None: ...


class SharedChannelPacer:
    """About one new message per second per channel, across every process."""

    def __init__(
        self,
        *,
        db: Database,
        interval_s: float = MIN_POST_INTERVAL_S,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.db = db
        self.interval_s = interval_s
        self._clock = clock
        self._sleep = sleep

    async def wait_turn(self, channel: str, *, key: str | None = None) -> None:
        if self.interval_s <= 0:
            return
        now = self._clock()
        slot = await rate_limits.take_slot(
            self.db,
            name=f"{PACE_NAME_PREFIX}{channel}"[:64],
            interval_s=self.interval_s,
            now=now,
            key=key,
            reserve_beyond_s=self.interval_s,
        )
        delay = (slot - now).total_seconds()
        if key is not None and delay > self.interval_s:
            raise RetryLater(delay, f"pacing posts to {channel}")
        if key is None and delay > UNKEYED_MAX_WAIT_INTERVALS * self.interval_s:
            raise RetryLater(delay, f"pacing posts to {channel}")
        if delay > 0:
            await self._sleep(delay)
