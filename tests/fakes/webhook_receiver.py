"""A local HTTP endpoint that receives POSTs (a Teams webhook, a CRM's webhook) and records
them; `answer_next(500)` scripts failures before the next successes."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from tests.fakes.threaded_http import ThreadedAiohttpServer


@dataclass(frozen=True)
class ReceivedPost:
    path: str
    headers: dict[str, str]
    body: str
    status: int  # what the receiver answered


class WebhookReceiver(ThreadedAiohttpServer[ReceivedPost]):
    """Answers 200 (or the scripted statuses) to every POST and remembers it."""

    thread_name = "fake-webhook-receiver"

    def __init__(self) -> None:
        super().__init__()
        self._script: list[int] = []

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_post("/{tail:.*}", self._receive)

    def answer_next(self, *statuses: int) -> None:
        with self._lock:
            self._script += list(statuses)

    @property
    def posts(self) -> list[ReceivedPost]:
        return self._matching(lambda _: True)

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.text()
        with self._lock:
            status = self._script.pop(0) if self._script else 200
        self._record(ReceivedPost(request.path, dict(request.headers), body, status))
        return web.Response(status=status, text="ok" if status < 300 else "error")
