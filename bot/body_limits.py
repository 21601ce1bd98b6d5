"""Request body limits per route, enforced while reading and before any verification work.

A body whose Content-Length is over its route's limit is answered 413 unread; a body sent
without one (chunked) is read until it passes the limit, then answered 413. POST
/stripe/webhook is answered ahead of this (`WebhookEndpoint`, 1 MiB, same rules). Slack's
Socket Mode envelopes get Slack's limit too (`bound_socket_mode`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("dunbot.limits")

KIB = 1024
SLACK_MAX_BODY_BYTES = 64 * KIB  # Slack's events, clicks, modals and commands are a few KB
DEFAULT_MAX_BODY_BYTES = 64 * KIB
# First matching path prefix wins; everything else gets DEFAULT_MAX_BODY_BYTES.
ROUTE_LIMITS: tuple[tuple[str, int], ...] = (
    ("/slack/events", SLACK_MAX_BODY_BYTES),
    ("/sandbox/slack/api/", 1024 * KIB),  # dunbot's own Web API calls to the sandbox Slack
)


def limit_for(path: str) -> int:
    """The largest body accepted on `path`."""
    for prefix, limit in ROUTE_LIMITS:
        if path.startswith(prefix):
            return limit
    return DEFAULT_MAX_BODY_BYTES


class BodyTooLarge(Exception):
    """The request body passed its route's limit while being read."""


class BodyLimitMiddleware:
    """Answers 413 to a body over its route's limit, before the route handles (or verifies)
    any of it. Installed with `app.add_middleware`, inside Starlette's error middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _answer_too_large(send, limit)  # refused unread
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracked_send)
        except BodyTooLarge:
            if started:
                raise
            await _answer_too_large(send, limit)


async def _answer_too_large(send: Send, limit: int) -> None:
    content = json.dumps({"error": f"body too large for this route (over {limit} bytes)"})
    body = content.encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def bound_socket_mode(client: Any, *, max_chars: int = SLACK_MAX_BODY_BYTES) -> None:
    """Drop Socket Mode envelopes over `max_chars` before they are parsed (unacked: refused).

    `client` is slack_sdk's async SocketModeClient; every text frame passes `enqueue_message`.
    """
    enqueue = client.enqueue_message

    async def enqueue_bounded(message: str) -> None:
        if len(message) > max_chars:
            log.warning(
                "Socket Mode envelope refused: larger than the limit",
                extra={"size": len(message), "limit": max_chars},
            )
            return
        await enqueue(message)

    client.enqueue_message = enqueue_bounded
