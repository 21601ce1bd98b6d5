"""The OpenAPI schema and docs pages are off unless API_DOCS turns them on."""

from __future__ import annotations

import httpx
import pytest

from bot.app import create_app
from bot.runtime import Runtime
from bot.settings import Settings
from storage.db import Database
from tests.web.test_stripe_webhook import asgi_client

DOC_PATHS = ("/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect")


async def test_docs_are_off_by_default(client: httpx.AsyncClient) -> None:
    for path in DOC_PATHS:
        assert (await client.get(path)).status_code == 404, path


async def test_api_docs_true_turns_them_on(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_DOCS", "true")
    on = Settings(database_url=settings.database_url, environment="test")
    assert on.api_docs is True
    async with asgi_client(create_app(Runtime(settings=on, db=db))) as http:
        schema = await http.get("/openapi.json")
        assert schema.status_code == 200 and "/healthz" in schema.json()["paths"]
        assert (await http.get("/docs")).status_code == 200
