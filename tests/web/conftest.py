"""A dunbot web app on the test database, driven over ASGI with httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.app import create_app
from bot.runtime import Runtime
from bot.settings import Settings
from storage.db import Database

WEBHOOK_SECRET = "whsec_test_secret_0123456789"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url, stripe_webhook_secret=WEBHOOK_SECRET, environment="test"
    )


@pytest.fixture
async def client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Runtime(settings=settings, db=db))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dunbot.test") as http:
        yield http
