"""GET /favicon.ico: served by every dunbot app, so no page leaves a 404 behind."""

from __future__ import annotations

import httpx


async def test_favicon_is_an_icon(client: httpx.AsyncClient) -> None:
    response = await client.get("/favicon.ico")

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/vnd.microsoft.icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # ICO header: reserved 0, type 1 (icon)
    assert b"\x89PNG" in response.content
