"""Sandbox Stripe events to dunbot's own webhook, signed as Stripe signs them: the page's
controls send theirs at once, and the events of dunbot's own writes (a plan's retry, a
close-out) follow in the background, as Stripe sends an event for every change."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
from fastapi import FastAPI

from bot.sandbox.signing import stripe_signature

log = logging.getLogger("dunbot.sandbox")
_INTERNAL_BASE = "http://dunbot.sandbox"


async def send_to_webhook(app: FastAPI, *, secret: str, event: dict[str, Any]) -> httpx.Response:
    """POST one event to `/stripe/webhook` of this app (in-process), signed with `secret`."""
    payload = json.dumps(event).encode()
    headers = {
        "Stripe-Signature": stripe_signature(payload, secret),
        "Content-Type": "application/json",
    }
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=_INTERNAL_BASE) as client:
        return await client.post("/stripe/webhook", content=payload, headers=headers)


class WriteEvents:
    """Delivers the events of dunbot's writes to the sandbox billing, each in its own task
    (the write's job does not wait for its webhook, as with Stripe)."""

    def __init__(self, app: FastAPI, *, secret: str) -> None:
        self._app = app
        self._secret = secret
        self._pending: set[asyncio.Task[None]] = set()

    def __call__(self, event: dict[str, Any]) -> None:
        """The sandbox billing's `on_write`: called inside the worker's job, on its loop."""
        task = asyncio.get_running_loop().create_task(self._deliver(event))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        """Wait until every event handed over so far is delivered (tests, shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending))

    async def _deliver(self, event: dict[str, Any]) -> None:
        response = await send_to_webhook(self._app, secret=self._secret, event=event)
        if response.status_code >= 300:
            log.warning(
                "sandbox webhook refused an event",
                extra={"event_type": event.get("type"), "status": response.status_code},
            )
