"""A real aiohttp server on 127.0.0.1 (a free port), run from a background thread.

The base of the HTTP fakes (Slack, Stripe, the LLM APIs): it serves from its own event loop so
an async test, a blocking test or a subprocess can all reach it, and it records what arrived so
tests can wait for requests without polling.

    class FakeThing(ThreadedAiohttpServer[RecordedThing]):
        thread_name = "fake-thing"

        def _add_routes(self, app: web.Application) -> None:
            app.router.add_route("*", "/{tail:.*}", self._handle)

        async def _handle(self, request: web.Request) -> web.Response:
            self._record(RecordedThing(...))
            ...

    with FakeThing() as thing:            # or: async with FakeThing() as thing
        ...                               # talk to thing.base_url
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Self, TypeVar

from aiohttp import web

R = TypeVar("R")


@dataclass
class _Waiter(Generic[R]):
    count: int
    matches: Callable[[R], bool]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[list[R]]


class ThreadedAiohttpServer(Generic[R]):
    """Lifecycle (start/stop, sync and async context managers, `base_url`) and a request log.

    Subclasses add their routes in `_add_routes`, call `_record` for each request they want
    kept, and may override `_on_serve` (runs in the server loop before it listens) and
    `_before_stop` (runs before connections close, e.g. to release held requests).
    """

    thread_name = "fake-http"  # the thread's name and, in errors, the server's
    base_path = ""  # appended to `http://127.0.0.1:<port>` in `base_url`
    shutdown_timeout = 60.0  # seconds `stop` gives open connections (aiohttp's default)

    def __init__(self) -> None:
        self._lock = threading.Condition()  # guards the log, waiters and subclass state
        self._recorded: list[R] = []
        self._waiters: list[_Waiter[R]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>` followed by `base_path`."""
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://127.0.0.1:{self._port}{self.base_path}"

    def start(self) -> None:
        """Serve on a free port from a daemon thread; returns once the port is bound."""
        if self._thread is not None:
            return
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:  # reported to start()
                errors.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name=self.thread_name, daemon=True)
        self._thread.start()
        if not ready.wait(timeout=10):
            raise RuntimeError(f"{self.thread_name} did not start")
        if errors:
            raise RuntimeError(f"{self.thread_name} failed to start") from errors[0]

    def stop(self) -> None:
        """Close connections and stop the server thread."""
        loop, thread, runner = self._loop, self._thread, self._runner
        if loop is None or thread is None:
            return
        self._before_stop()
        if runner is not None:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._thread = self._loop = self._runner = None
        self._port = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.to_thread(self.stop)

    async def _serve(self) -> None:
        self._on_serve()
        app = web.Application()
        self._add_routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=self.shutdown_timeout)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock).start()

    def _add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def _on_serve(self) -> None:
        """Hook: runs in the server's loop, before it listens."""

    def _before_stop(self) -> None:
        """Hook: runs before `stop` closes connections."""

    # -- request log ----------------------------------------------------------------------------

    def _record(self, item: R) -> None:
        """Keep one request; wake `_wait_for_sync` callers and the `_wait_for` it satisfies."""
        with self._lock:
            self._recorded.append(item)
            self._lock.notify_all()
            for waiter in list(self._waiters):
                seen = [r for r in self._recorded if waiter.matches(r)]
                if len(seen) >= waiter.count:
                    self._waiters.remove(waiter)
                    waiter.loop.call_soon_threadsafe(_resolve, waiter.future, seen)

    def _matching(self, matches: Callable[[R], bool]) -> list[R]:
        with self._lock:
            return [r for r in self._recorded if matches(r)]

    async def _wait_for(
        self,
        matches: Callable[[R], bool],
        count: int,
        timeout: float,
        *,
        describe: Callable[[], str] | None = None,
    ) -> list[R]:
        """Wait (no polling) until `count` recorded requests match; return those that do.

        On timeout: `TimeoutError(describe())` when `describe` is given, else a bare one.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[R]] = loop.create_future()
        with self._lock:
            seen = [r for r in self._recorded if matches(r)]
            if len(seen) >= count:
                return seen
            waiter = _Waiter(count, matches, loop, future)
            self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            if describe is None:
                raise
            raise TimeoutError(describe()) from None
        finally:
            with self._lock:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    def _wait_for_sync(
        self,
        matches: Callable[[R], bool],
        count: int,
        timeout: float,
        *,
        describe: Callable[[], str],
    ) -> list[R]:
        """Blocking twin of `_wait_for`, for threads and subprocess-driven tests."""
        with self._lock:
            ok = self._lock.wait_for(
                lambda: sum(1 for r in self._recorded if matches(r)) >= count, timeout=timeout
            )
            if not ok:
                raise TimeoutError(describe())
            return [r for r in self._recorded if matches(r)]


def _resolve(future: asyncio.Future[list[R]], value: list[R]) -> None:
    if not future.done():
        future.set_result(value)
