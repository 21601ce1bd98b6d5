"""How dunbot is served: uvicorn, with each request's head (request line and headers) bounded.

uvicorn's fast HTTP parser (httptools) accumulates a header of any size before the app sees
it: a 20 MB `Stripe-Signature` stalled the whole server for seconds. Here a head larger than
`MAX_HEAD_BYTES` is answered 431 and the connection closed as soon as that many bytes arrived
(h11, used when httptools is missing, gets the same bound from uvicorn's own setting).
"""

from __future__ import annotations

from typing import Any

import uvicorn

MAX_HEAD_BYTES = 32 * 1024  # browsers send < 8 KiB; Stripe and Slack far less


def server_config(app: Any, *, host: str, port: int, **options: Any) -> uvicorn.Config:
    """The uvicorn configuration of `dunbot serve` and `dunbot demo` (and of the benchmark)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        http=_http_protocol(),
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        **options,
    )


def _http_protocol() -> Any:
    try:
        from bot.bounded_http import BoundedHttpToolsProtocol
    except ImportError:  # httptools is not installed: uvicorn's h11, bounded by its setting
        return "h11"
    return BoundedHttpToolsProtocol
