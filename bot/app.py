"""FastAPI application factory: routes plus, optionally, the in-process worker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from bot.routes import dashboard, health, stripe_webhook
from bot.runtime import Runtime
from storage.worker import Worker


def create_app(runtime: Runtime, *, worker: Worker | None = None) -> FastAPI:
    """Build the web app. With a `worker`, it runs in-process for the app's lifetime."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop), name="worker") if worker else None
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task
            await runtime.db.dispose()

    app = FastAPI(title="dunbot", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.runtime = runtime
    app.include_router(health.router)
    app.include_router(stripe_webhook.router)
    app.include_router(dashboard.router)
    slack = runtime.extras.get("slack")
    if slack is not None:
        from bot.slack.app import slack_router

        app.include_router(slack_router(slack.bolt))
    return app
