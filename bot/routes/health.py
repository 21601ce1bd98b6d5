"""GET /healthz (the database can be written) and GET /metrics (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from bot.runtime import Runtime
from storage.instance import write_heartbeat

router = APIRouter()


@router.get("/healthz")
async def healthz(request: Request) -> Response:
    """503 unless the database takes a write (one heartbeat row upserted): a database that
    answers reads but refuses writes (read-only file, full disk, replica) loses all work."""
    runtime: Runtime = request.app.state.runtime
    try:
        await write_heartbeat(runtime.db)
    except Exception as error:  # noqa: BLE001 - any failure means unhealthy
        return JSONResponse(
            {"status": "error", "database": f"not writable: {type(error).__name__}"},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    body = await runtime.metrics.render(runtime.db)
    return Response(body, media_type=runtime.metrics.content_type)
