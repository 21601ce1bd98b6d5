"""The demo app served on a free port, for the sandbox tests that need its Slack reached."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.sandbox.demo import build_demo_app, demo_settings
from tests.e2e.serve import serving


@pytest.fixture
async def served_demo(
    database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The demo app served on a free port (its sandbox Slack is reached over HTTP), with no
    worker of its own: the test runs the jobs."""
    built: list[Any] = []

    def make_app(port: int) -> Any:
        settings = demo_settings(
            port=port, database_url=database_url, email_outbox_dir=tmp_path / "outbox"
        )
        built.append(build_demo_app(settings, port=port, configure_logs=False))
        return built[0]

    async with serving(make_app, lifespan="off") as url, httpx.AsyncClient(base_url=url) as client:
        yield client, built[0]
    await built[0].state.runtime.db.dispose()
