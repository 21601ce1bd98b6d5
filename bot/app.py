"""FastAPI application factory: routes plus, optionally, the in-process worker."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from bot.body_limits import BodyLimitMiddleware, bound_socket_mode
from bot.playbooks.wiring import start_playbook_schedules
from bot.routes import (
    dashboard,
    favicon,
    health,
    history,
    pay_link,
    stripe_webhook,
    twilio_sms,
)
from bot.runtime import Runtime
from storage.worker import Worker

if TYPE_CHECKING:
    from bot.worker_process import WorkerSupervisor


class DunbotApp(FastAPI):
    """FastAPI, with /stripe/webhook answered before any of FastAPI's per-request work."""

    webhook: stripe_webhook.WebhookEndpoint | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.webhook is not None and self.webhook.matches(scope):
            await self.webhook(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_app(
    runtime: Runtime,
    *,
    worker: Worker | None = None,
    worker_process: WorkerSupervisor | None = None,
) -> DunbotApp:
    """Build the web app. With a `worker`, it runs in-process for the app's lifetime; with a
    `worker_process`, the worker runs in a supervised child process for that time."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            # Unwound last in, first out: the worker stops, then Socket Mode, then the
            # runtime's resources (HTTP clients, ingest writer, database) close.
            await stack.enter_async_context(runtime.resources)
            await runtime.open_clients()
            socket_mode = await _start_socket_mode(runtime)  # first: a refusal stops start-up
            if socket_mode is not None:
                stack.push_async_callback(socket_mode.close_async)
            if worker is not None:
                await start_playbook_schedules(runtime.playbooks)  # e.g. the overdue sweep
                stop = asyncio.Event()
                task = asyncio.create_task(worker.run(stop), name="worker")
                stack.push_async_callback(_stop_worker, stop, task)
            if worker_process is not None:
                runtime.db.on_jobs_committed(worker_process.wake)
                worker_process.observer = runtime.metrics.observe_job
                await worker_process.start()
                stack.push_async_callback(worker_process.stop)
            yield

    docs = runtime.settings.api_docs  # the API's map: off unless API_DOCS turns it on
    app = DunbotApp(
        title="dunbot",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.add_middleware(BodyLimitMiddleware)  # before any route reads (or verifies) a body
    app.state.runtime = runtime
    app.webhook = stripe_webhook.WebhookEndpoint(runtime)
    app.include_router(health.router)
    app.include_router(dashboard.router)
    app.include_router(favicon.router)
    app.include_router(pay_link.router)
    app.include_router(history.router)
    app.include_router(twilio_sms.router)
    if runtime.slack is not None:
        from bot.slack.app import slack_router

        app.include_router(slack_router(runtime.slack.bolt))
    return app


async def _stop_worker(stop: asyncio.Event, task: asyncio.Task[None]) -> None:
    """Ask the worker to stop and wait for its running jobs to finish."""
    stop.set()
    await task


def freeze_startup_heap() -> None:
    """Before serving: keep the start-up heap (modules, models, routes) out of GC scans.

    Each webhook delivery parses a ~4 KB event into ~100 objects that live until its batch is
    committed; they trigger full collections, which walk this heap of ~120k objects (~70 ms
    each) every few hundred deliveries: ~50 µs per request and the 80 ms latency spikes.
    """
    gc.collect()
    gc.freeze()


async def _start_socket_mode(runtime: Runtime) -> Any:
    """With SLACK_APP_TOKEN, receive Slack requests over Socket Mode instead of HTTP."""
    slack = runtime.slack
    token = runtime.settings.slack_app_token
    if slack is None or token is None:
        return None
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_sdk.errors import SlackApiError

    handler = AsyncSocketModeHandler(slack.bolt, token.get_secret_value())
    bound_socket_mode(handler.client)  # Slack's body limit holds for envelopes too
    try:  # fail start-up on a refused token instead of retrying every 10 s for ever
        handler.client.wss_uri = await handler.client.issue_new_wss_url()
    except SlackApiError as error:
        await handler.client.close()
        raise RuntimeError(
            f"Slack refused SLACK_APP_TOKEN for Socket Mode ({error.response.get('error')}); "
            "use an app-level token (xapp-…) with connections:write, or unset it for HTTP."
        ) from None
    await handler.connect_async()
    return handler
