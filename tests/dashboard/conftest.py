"""The dashboard router on its own FastAPI app over the test database, driven with httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bot.routes import dashboard, history
from bot.runtime import Runtime
from bot.settings import Settings
from storage.db import Database

DASHBOARD_TOKEN = "dash-test-token-0123456789"

ClientFactory = Callable[..., httpx.AsyncClient]


def dashboard_app(settings: Settings, db: Database, *, sandbox: bool = False) -> FastAPI:
    """A bare app with just the dashboard routers (figures and history), as bot/app.py has them
    (`sandbox`: as `dunbot demo` builds it, with its sandbox mounted)."""
    app = FastAPI()
    app.state.runtime = Runtime(settings=settings, db=db)
    if sandbox:
        app.state.sandbox = object()
    app.include_router(dashboard.router)
    app.include_router(history.router)
    return app


@pytest.fixture
async def make_client(
    database_url: str, db: Database
) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """`make_client(**settings)` → an httpx client on a dashboard app with those settings."""
    clients: list[httpx.AsyncClient] = []

    def make(*, sandbox: bool = False, **overrides: Any) -> httpx.AsyncClient:
        fields: dict[str, Any] = {"database_url": database_url, "environment": "test"}
        fields.update(overrides)
        app = dashboard_app(Settings(**fields), db, sandbox=sandbox)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://dunbot.test"
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def client(make_client: ClientFactory) -> httpx.AsyncClient:
    """A client of a dashboard protected by DASHBOARD_TOKEN."""
    return make_client(dashboard_token=DASHBOARD_TOKEN)
