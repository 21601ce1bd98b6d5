"""GET /favicon.ico: dunbot's icon, so no page of the app leaves a 404 in the browser's log."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter()

FAVICON = Path(__file__).resolve().parent.parent / "static" / "favicon.ico"


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> FileResponse:
    """The icon (a 32×32 PNG inside an ICO container), cacheable for a day."""
    return FileResponse(
        FAVICON,
        media_type="image/vnd.microsoft.icon",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
