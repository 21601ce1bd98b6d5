"""The Slack Bolt AsyncApp and its FastAPI route (events, interactivity, slash commands)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.handlers import SlackDeps, register


def build_bolt_app(*, signing_secret: str, client: AsyncWebClient, deps: SlackDeps) -> AsyncApp:
    """Bolt verifies every request's signature and its 5-minute window (401 otherwise).

    `process_before_response=True`: listeners finish (store + ack) before the HTTP response,
    so nothing runs in the background of a request where a restart could lose it.
    """
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        process_before_response=True,
        request_verification_enabled=True,
    )
    register(app, deps)
    return app


def slack_router(bolt: AsyncApp) -> APIRouter:
    handler = AsyncSlackRequestHandler(bolt)
    router = APIRouter()

    @router.post("/slack/events")
    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    return router
