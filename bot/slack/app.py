"""The Slack Bolt AsyncApp and its FastAPI route (events, interactivity, slash commands)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.payload_utils import (
    to_action,
    to_command,
    to_event,
    to_message,
    to_options,
    to_shortcut,
    to_step,
    to_view,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.handlers import SlackDeps, register
from bot.slack.middleware import MALFORMED


def build_bolt_app(*, signing_secret: str, client: AsyncWebClient, deps: SlackDeps) -> AsyncApp:
    """Bolt verifies every request's signature and its 5-minute window (401 otherwise).

    `process_before_response=True`: listeners finish (store + ack) before the HTTP response,
    so nothing runs in the background of a request where a restart could lose it.
    `raise_error_for_unhandled_request=True`: a signed request no listener takes reaches the
    error handler, which answers 200 (Slack retries anything else).
    """
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        process_before_response=True,
        request_verification_enabled=True,
        raise_error_for_unhandled_request=True,
    )
    register(app, deps)
    return app


_BOLT_EXTRACTORS = (
    to_options,
    to_shortcut,
    to_action,
    to_view,
    to_command,
    to_event,
    to_message,
    to_step,
)
"""What Bolt reads from every body before any listener or error handler runs."""


def _readable(parsed: AsyncBoltRequest) -> AsyncBoltRequest:
    """`parsed`, once Bolt's own extractors cope with its shapes (`actions: []` does not)."""
    for extract in _BOLT_EXTRACTORS:
        extract(parsed.body)
    return parsed


def bolt_request(request: Request, body: bytes) -> AsyncBoltRequest:
    """The request for Bolt; a body Bolt cannot read (not UTF-8, `payload` not a JSON object,
    shapes Bolt trips over) still goes through Bolt's signature check, marked malformed and
    with nothing parsed, so a signed one is answered 200 and a forged one 401."""
    try:
        return _readable(to_async_bolt_request(request, body))
    except (ValueError, TypeError, AttributeError, LookupError):
        malformed = AsyncBoltRequest(
            body="",
            query=str(request.query_params),
            headers=dict(request.headers),
            context={MALFORMED: True},
        )
        malformed.raw_body = body.decode("utf-8", "replace")  # what the signature covers
        return malformed


def slack_router(bolt: AsyncApp) -> APIRouter:
    """`POST /slack/events`: every Slack request, handed to Bolt."""
    router = APIRouter()

    @router.post("/slack/events")
    async def slack_events(request: Request) -> Response:
        response = await bolt.async_dispatch(bolt_request(request, await request.body()))
        return to_starlette_response(response)

    return router
