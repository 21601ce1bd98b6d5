"""Oversized request heads are refused at once by the server `dunbot serve` runs, which stays
responsive meanwhile (a real uvicorn on a free port, in this event loop)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator

import httpx
import uvicorn

from bot.app import create_app
from bot.runtime import Runtime
from bot.server import MAX_HEAD_BYTES, server_config
from bot.settings import Settings
from storage.db import Database

JUNK_BYTES = 8 * 1024 * 1024


@contextlib.asynccontextmanager
async def dunbot_server(settings: Settings, db: Database) -> AsyncIterator[int]:
    """dunbot's app under `server_config` on 127.0.0.1, a free port; yields the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(Runtime(settings=settings, db=db))
    config = server_config(app, host="127.0.0.1", port=port, lifespan="off", log_level="error")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield port
    finally:
        server.should_exit = True
        await task
        sock.close()


async def send_head(port: int, head: bytes) -> bytes:
    """Send `head` (as much as the server takes) and return what it answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        with contextlib.suppress(ConnectionError):
            for start in range(0, len(head), 65536):
                writer.write(head[start : start + 65536])
                await writer.drain()
        with contextlib.suppress(ConnectionError):
            return await asyncio.wait_for(reader.read(), timeout=10)
        return b""
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def junk_head(path: str, name: str, value: bytes) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: dunbot.test\r\n{name}: ".encode()
        + value
        + b"\r\nConnection: close\r\n\r\n"
    )


async def test_a_multi_megabyte_header_gets_431_and_health_stays_responsive(
    settings: Settings, db: Database
) -> None:
    async with dunbot_server(settings, db) as port:
        attack = asyncio.create_task(
            send_head(port, junk_head("/healthz", "X-Junk", b"a" * JUNK_BYTES))
        )
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            started = time.perf_counter()
            health = await http.get("/healthz")
            elapsed = time.perf_counter() - started
        answer = await attack
    assert health.status_code == 200 and elapsed < 1.0
    # Without the bound, /healthz answers the junk request 200 after reading all 8 MB.
    assert answer.startswith(b"HTTP/1.1 431 ") or answer == b"", answer[:80]


async def test_a_hundred_thousand_signatures_never_reach_the_webhook(
    settings: Settings, db: Database
) -> None:
    signature = b"t=1," + b",".join([b"v1=" + b"0" * 64] * 100_000)
    head = (
        b"POST /stripe/webhook HTTP/1.1\r\nHost: dunbot.test\r\nContent-Length: 2\r\n"
        b"Stripe-Signature: " + signature + b"\r\nConnection: close\r\n\r\n{}"
    )
    async with dunbot_server(settings, db) as port:
        started = time.perf_counter()
        answer = await send_head(port, head)
        elapsed = time.perf_counter() - started
    assert answer.startswith(b"HTTP/1.1 431 ") or answer == b"", answer[:80]
    assert elapsed < 2.0


async def test_a_head_within_the_bound_is_served(settings: Settings, db: Database) -> None:
    value = b"a" * (MAX_HEAD_BYTES - 200)
    async with dunbot_server(settings, db) as port:
        answer = await send_head(port, junk_head("/healthz", "X-Large-But-Fine", value))
    assert answer.startswith(b"HTTP/1.1 200 ")
