"""GET /healthz (database reachable and migrated) and GET /metrics (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from bot.runtime import Runtime

router = APIRouter()


@router.get("/healthz")
async def healthz(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    try:
        async with runtime.db.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means unhealthy
        return JSONResponse(
            {"status": "error", "database": f"unreachable: {type(error).__name__}"},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    body = await runtime.metrics.render(runtime.db)
    return Response(body, media_type=runtime.metrics.content_type)
