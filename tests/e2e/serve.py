"""Serve an ASGI app with uvicorn on 127.0.0.1 in the test's event loop, on a pre-bound port."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

import uvicorn


def bound_socket() -> socket.socket:
    """A listening-ready socket on a free port (so the app can know its port before serving)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def serving(
    make_app: Callable[[int], Any], *, lifespan: Literal["auto", "on", "off"] = "on"
) -> AsyncIterator[str]:
    """Build the app for the port, serve it, yield `http://127.0.0.1:{port}`, stop it."""
    sock = bound_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(make_app(port), lifespan=lifespan, log_level="warning", log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
