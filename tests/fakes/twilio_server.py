"""A local fake of Twilio's Messages API (the part dunbot uses), speaking real HTTP.

    with FakeTwilio() as twilio:                  # TWILIO_API_BASE = twilio.base_url
        twilio.fail_next(status=429)              # or code=21610 (opted out), status=500 …
        twilio.drop_after_create()                # stored, connection cut before the answer
        twilio.hang_after_create()                # stored, answer held (`twilio.hung` is set)
        ...
        [message] = twilio.messages              # what was created: To, From, Body, sid

Requests need HTTP Basic auth with the account SID and auth token; answers are shaped like
Twilio's (a message resource, or `{"code", "message", "more_info", "status"}` errors).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import threading
from dataclasses import dataclass, field

from aiohttp import web

from tests.fakes.threaded_http import ThreadedAiohttpServer

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "twilio-test-token"


@dataclass(frozen=True)
class CreatedMessage:
    sid: str
    to: str
    sender: str | None
    messaging_service_sid: str | None
    body: str


@dataclass
class _Fault:
    status: int
    code: int


@dataclass
class _State:
    messages: list[CreatedMessage] = field(default_factory=list)
    faults: list[_Fault] = field(default_factory=list)
    drop_next: int = 0
    hang_next: int = 0


class FakeTwilio(ThreadedAiohttpServer[CreatedMessage]):
    """Twilio's `POST /2010-04-01/Accounts/{sid}/Messages.json` in memory."""

    thread_name = "fake-twilio"

    def __init__(self, *, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._state = _State()
        self._ids = itertools.count(1)
        self.attempts = 0  # every create request, answered or not
        self.arrived = threading.Event()
        self.hung = threading.Event()  # set once a `hang_after_create` message is stored
        self._hanging: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._create)
        app.router.add_get("/2010-04-01/Accounts/{sid}.json", self._account)

    @property
    def messages(self) -> list[CreatedMessage]:
        with self._lock:
            return list(self._state.messages)

    def fail_next(self, *, status: int = 400, code: int = 21211, times: int = 1) -> None:
        """The next `times` creates answer with this error (nothing is created)."""
        with self._lock:
            self._state.faults += [_Fault(status, code)] * times

    def drop_after_create(self) -> None:
        """The next create is stored, then the connection is cut before the answer."""
        with self._lock:
            self._state.drop_next += 1

    def hang_after_create(self) -> None:
        """The next create is stored, then its answer is held until the server stops."""
        with self._lock:
            self._state.hang_next += 1

    def _before_stop(self) -> None:
        with self._lock:
            hanging, self._hanging = self._hanging, []
        for loop, future in hanging:
            loop.call_soon_threadsafe(_resolve, future)

    def _authorised(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    async def _account(self, request: web.Request) -> web.Response:
        if not self._authorised(request) or request.match_info["sid"] != self.account_sid:
            return _error(401, 20003, "Authenticate")
        return web.json_response(
            {"sid": self.account_sid, "friendly_name": "dunbot test", "status": "active",
             "type": "Trial", "uri": f"/2010-04-01/Accounts/{self.account_sid}.json"}
        )  # fmt: skip

    async def _create(self, request: web.Request) -> web.StreamResponse:
        self.attempts += 1
        if not self._authorised(request) or request.match_info["sid"] != self.account_sid:
            return _error(401, 20003, "Authenticate")
        form = await request.post()
        with self._lock:
            fault = self._state.faults.pop(0) if self._state.faults else None
            drop = self._state.drop_next > 0
            if drop:
                self._state.drop_next -= 1
            hang = not drop and self._state.hang_next > 0
            if hang:
                self._state.hang_next -= 1
        if fault is not None:
            return _error(fault.status, fault.code, f"fake Twilio error {fault.code}")
        to = str(form.get("To", ""))
        if not to.startswith("+"):
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        message = CreatedMessage(
            sid=f"SM{next(self._ids):032x}",
            to=to,
            sender=str(form["From"]) if "From" in form else None,
            messaging_service_sid=(
                str(form["MessagingServiceSid"]) if "MessagingServiceSid" in form else None
            ),
            body=str(form.get("Body", "")),
        )
        with self._lock:
            self._state.messages.append(message)
        self._record(message)
        if hang:  # the message exists; the client waits for an answer that never comes
            loop = asyncio.get_running_loop()
            future: asyncio.Future[None] = loop.create_future()
            with self._lock:
                self._hanging.append((loop, future))
            self.hung.set()
            await future
            return web.Response(status=500)
        if drop and request.transport is not None:
            request.transport.close()  # the message exists; the answer never arrives
            return web.Response(status=500)
        return web.json_response(
            {
                "sid": message.sid,
                "account_sid": self.account_sid,
                "to": message.to,
                "from": message.sender,
                "messaging_service_sid": message.messaging_service_sid,
                "body": message.body,
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{message.sid}.json",
            },
            status=201,
        )


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status=status,
    )


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
