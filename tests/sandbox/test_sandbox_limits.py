"""The sandbox's routes are bounded like the others: an oversized body is 413, unread."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx

from bot.body_limits import DEFAULT_MAX_BODY_BYTES
from bot.sandbox.demo import FINANCE, build_demo_app, demo_settings


async def test_an_oversized_sandbox_post_is_413(sqlite_template: Path, tmp_path: Path) -> None:
    db_file = tmp_path / "demo.db"
    shutil.copy(sqlite_template, db_file)
    settings = demo_settings(
        port=8000,
        database_url=f"sqlite+aiosqlite:///{db_file}",
        email_outbox_dir=tmp_path / "outbox",
        llm_provider="template",
    )
    app = build_demo_app(settings, port=8000, configure_logs=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        command = {"user": FINANCE, "channel": "C1", "text": "x" * DEFAULT_MAX_BODY_BYTES}
        response = await http.post(
            "/sandbox/api/command",
            content=json.dumps(command),
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 413
        big_post = await http.post(
            "/sandbox/slack/api/chat.postMessage", content=b"x" * (2 * 1024 * 1024)
        )
        assert big_post.status_code == 413
