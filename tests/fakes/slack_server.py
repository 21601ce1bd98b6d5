"""A local fake of the Slack Web API that the real `slack_sdk` clients talk to over HTTP.

It serves 127.0.0.1 on a free port from a background thread (aiohttp), so an
`AsyncWebClient`, a blocking test or a `dunbot` subprocess can all reach it. Point a client at
`base_url` (ends in `/api/`, as `SLACK_API_URL` and `AsyncWebClient(base_url=...)` take it).

    async with FakeSlack() as slack:                       # or: with FakeSlack() as slack
        client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
        posted = await client.chat_postMessage(channel="C1", text="hi", blocks=[...])
        await client.chat_update(channel="C1", ts=posted["ts"], text="edited")
        slack.rate_limit_next("chat.update", retry_after=7)   # next chat.update → 429
        slack.fail_next("views.open", error="expired_trigger_id")
        calls = await slack.wait_for("chat.postMessage", count=2)
        assert calls[0].args["channel"] == "C1"
        assert slack.message("C1", posted["ts"])["text"] == "edited"

Replies are built from the Slack fixtures in `tests/fixtures/slack/` (copied from
`shared/fixtures/slack`, see the README there), with the request's own values filled in.
Every posted message gets a new `ts`, increasing per post. `chat.update` of a `ts` this
server never posted answers `message_not_found`, as Slack does.

Slack's posting pace (off unless asked): `FakeSlack(channel_pace_s=1.0)` lets each of
`chat.postMessage` and `chat.update` through about once per second per channel (a token bucket
with a burst of `channel_burst`), answering 429 with `Retry-After` beyond that, as Slack does.

Socket Mode: `apps.connections.open` (with an `xapp-` token) answers a `ws://` URL this server
serves; it greets each connection with `hello`, as Slack does. `send_envelope` pushes an
envelope to the connected app and returns the app's ack:

    ack = await slack.send_envelope(
        {"envelope_id": "e1", "type": "slash_commands", "payload": {...},
         "accepts_response_payload": True}
    )
    assert ack["envelope_id"] == "e1"
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import itertools
import json
import math
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from tests.fakes.threaded_http import ThreadedAiohttpServer

JsonObject = dict[str, Any]

FIXTURES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "slack"
DEFAULT_TEAM_ID = "T0DUNBOT1"
DEFAULT_BOT_USER_ID = "U0DUNBOT1"
DEFAULT_BOT_ID = "B0DUNBOT1"
DEFAULT_APP_ID = "A0DUNBOT1"
_FIRST_TS_SECONDS = 1_700_000_000
# Arguments the SDK sends as JSON strings when a call is form-encoded.
_JSON_ARGS = frozenset({"blocks", "attachments", "view", "metadata", "unfurl_ids"})
_PACED_METHODS = frozenset({"chat.postMessage", "chat.update"})
_CONVERSATION_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")


def load_fixture(name: str) -> JsonObject:
    """Load a Slack fixture by file stem, e.g. `chat.postMessage.response`."""
    data: JsonObject = json.loads((FIXTURES_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True)
class RecordedCall:
    """One Web API call as the fake received it."""

    method: str  # Slack method name, e.g. "chat.postMessage"
    http_method: str
    args: JsonObject  # query + form/JSON body; JSON-valued args (blocks, view…) decoded
    headers: dict[str, str]  # request headers, Authorization included
    status: int  # HTTP status the fake answered with
    response: JsonObject
    at: float = field(default_factory=time.time)  # when it was answered (epoch seconds)

    @property
    def token(self) -> str | None:
        """The bearer token (or `token` argument) the caller used."""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth.removeprefix("Bearer ")
        token = self.args.get("token")
        return str(token) if token else None


@dataclass
class _Scripted:
    method: str
    status: int
    body: JsonObject
    headers: dict[str, str]


@dataclass
class _State:
    messages: dict[tuple[str, str], JsonObject] = field(default_factory=dict)
    ephemerals: list[JsonObject] = field(default_factory=list)
    views: dict[str, JsonObject] = field(default_factory=dict)
    home_views: dict[str, JsonObject] = field(default_factory=dict)
    users: dict[str, JsonObject] = field(default_factory=dict)
    channels: dict[str, JsonObject] = field(default_factory=dict)


class SlackApiFailure(Exception):
    """Raised inside a handler to answer `{"ok": false, "error": ...}`."""

    def __init__(self, error: str, *, status: int = 200) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


class FakeSlack(ThreadedAiohttpServer[RecordedCall]):
    """In-memory Slack Web API with a real HTTP front; see the module docstring for usage."""

    thread_name = "fake-slack"
    base_path = "/api/"  # as `AsyncWebClient(base_url=...)` and SLACK_API_URL take it

    def __init__(
        self,
        *,
        token: str | None = None,
        team_id: str = DEFAULT_TEAM_ID,
        bot_user_id: str = DEFAULT_BOT_USER_ID,
        strict_updates: bool = True,
        channel_pace_s: float | None = None,
        channel_burst: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`token`: the only bearer token accepted (None: any `xox…` token).
        `strict_updates`: chat.update of an unknown `ts` answers `message_not_found`.
        `channel_pace_s`: Slack's pace per channel and method (None: unpaced), timed by
        `clock` (seconds; tests pass a controllable one)."""
        super().__init__()
        self.channel_pace_s = channel_pace_s
        self.channel_burst = channel_burst
        self.clock = clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # tokens, refilled at
        self.token = token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.strict_updates = strict_updates
        self._state = _State()
        self._scripted: list[_Scripted] = []
        self._ts_counter = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []  # Socket Mode connections, oldest first
        self._socket_opened: asyncio.Event | None = None  # of the server's loop
        self._acks: dict[str, concurrent.futures.Future[JsonObject]] = {}  # by envelope_id

    # -- lifecycle ----------------------------------------------------------------------------

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/{method}", self._handle)
        app.router.add_get("/link/", self._socket_mode)

    def _on_serve(self) -> None:
        self._socket_opened = asyncio.Event()

    def _before_stop(self) -> None:
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._close_sockets(), self._loop).result(timeout=10)

    # -- scripting ----------------------------------------------------------------------------

    def rate_limit_next(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        """The next `times` calls to `method` get HTTP 429 with `Retry-After: retry_after`."""
        for _ in range(times):
            self.script(
                method,
                status=429,
                body={"ok": False, "error": "ratelimited"},
                headers={"Retry-After": str(retry_after)},
            )

    def fail_next(self, method: str, *, error: str, times: int = 1, status: int = 200) -> None:
        """The next `times` calls to `method` answer `{"ok": false, "error": error}`."""
        for _ in range(times):
            self.script(method, status=status, body={"ok": False, "error": error})

    def script(
        self,
        method: str,
        *,
        status: int,
        body: JsonObject,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Queue one raw reply for the next call to `method` (one-shot, in order)."""
        with self._lock:
            self._scripted.append(_Scripted(method, status, dict(body), dict(headers or {})))

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        email: str | None = None,
        tz: str = "Europe/London",
        is_bot: bool = False,
    ) -> JsonObject:
        """Make `users.info` know a user; returns the stored user object."""
        handle = name or user_id.lower()
        user: JsonObject = {
            "id": user_id,
            "team_id": self.team_id,
            "name": handle,
            "real_name": real_name or handle,
            "deleted": False,
            "is_bot": is_bot,
            "tz": tz,
            "profile": {
                "real_name": real_name or handle,
                "display_name": handle,
                "email": email,
            },
        }
        with self._lock:
            self._state.users[user_id] = user
        return copy.deepcopy(user)

    def add_channel(self, channel_id: str, *, name: str, is_member: bool = True) -> None:
        """Give a channel a name (conversations.info answers for any well-formed id)."""
        with self._lock:
            self._state.channels[channel_id] = {"name": name, "is_member": is_member}

    # -- inspection ---------------------------------------------------------------------------

    @property
    def calls(self) -> list[RecordedCall]:
        """Every call received so far, in order."""
        return self._matching(lambda _call: True)

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Calls to one method, in order."""
        return self._matching(lambda call: call.method == method)

    def message(self, channel: str, ts: str) -> JsonObject:
        """The current state of a posted message (after any chat.update)."""
        with self._lock:
            return copy.deepcopy(self._state.messages[(channel, ts)])

    @property
    def messages(self) -> dict[tuple[str, str], JsonObject]:
        """All posted messages by (channel, ts), current state."""
        with self._lock:
            return copy.deepcopy(self._state.messages)

    @property
    def ephemerals(self) -> list[JsonObject]:
        """chat.postEphemeral messages, in order."""
        with self._lock:
            return copy.deepcopy(self._state.ephemerals)

    @property
    def home_views(self) -> dict[str, JsonObject]:
        """The last view published to each user's App Home."""
        with self._lock:
            return copy.deepcopy(self._state.home_views)

    async def wait_for(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[RecordedCall]:
        """Wait (no polling) until at least `count` calls to `method` arrived; return them."""
        return await self._wait_for(
            lambda call: call.method == method,
            count,
            timeout,
            describe=lambda: self._timeout_message(method, count),
        )

    def wait_for_sync(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[RecordedCall]:
        """Blocking twin of `wait_for`, for threads and subprocess-driven tests."""
        return self._wait_for_sync(
            lambda call: call.method == method,
            count,
            timeout,
            describe=lambda: self._timeout_message(method, count),
        )

    async def send_envelope(self, envelope: JsonObject, timeout: float = 5.0) -> JsonObject:
        """Push a Socket Mode envelope to the newest connection (waiting for one to open);
        return the app's ack for its `envelope_id` (TimeoutError if none comes)."""
        if self._loop is None:
            raise RuntimeError("FakeSlack is not started")
        envelope_id = str(envelope["envelope_id"])
        ack: concurrent.futures.Future[JsonObject] = concurrent.futures.Future()
        with self._lock:
            self._acks[envelope_id] = ack
        try:
            async with asyncio.timeout(timeout):
                sent = asyncio.run_coroutine_threadsafe(self._push(envelope), self._loop)
                await asyncio.wrap_future(sent)
                return await asyncio.wrap_future(ack)
        finally:
            with self._lock:
                self._acks.pop(envelope_id, None)

    def _timeout_message(self, method: str, count: int) -> str:
        seen = [c.method for c in self.calls]
        return f"fewer than {count} calls to {method}; calls so far: {seen}"

    def _take_scripted(self, method: str) -> _Scripted | None:
        with self._lock:
            for index, scripted in enumerate(self._scripted):
                if scripted.method == method:
                    return self._scripted.pop(index)
        return None

    # -- HTTP ---------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _read_args(request)
        headers = dict(request.headers)
        extra_headers: dict[str, str] = {}
        try:
            self._authorise(method, headers.get("Authorization", ""), args)
            scripted = self._take_scripted(method) or self._over_pace(method, args)
            if scripted is not None:
                status, body, extra_headers = scripted.status, scripted.body, scripted.headers
            else:
                status, body = 200, self._route(method, args)
        except SlackApiFailure as failure:
            status, body = failure.status, {"ok": False, "error": failure.error}
        self._record(RecordedCall(method, request.method, args, headers, status, body))
        return web.json_response(body, status=status, headers=extra_headers)

    def _over_pace(self, method: str, args: JsonObject) -> _Scripted | None:
        """A 429 when this channel's bucket for `method` is empty (paced methods only)."""
        if self.channel_pace_s is None or method not in _PACED_METHODS:
            return None
        key, now = (method, str(args.get("channel") or "")), self.clock()
        with self._lock:
            tokens, refilled_at = self._buckets.get(key, (float(self.channel_burst), now))
            tokens = min(self.channel_burst, tokens + (now - refilled_at) / self.channel_pace_s)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return None
            self._buckets[key] = (tokens, now)
        wait = (1 - tokens) * self.channel_pace_s
        return _Scripted(
            method,
            429,
            {"ok": False, "error": "ratelimited"},
            {"Retry-After": str(max(1, math.ceil(wait)))},
        )

    def _authorise(self, method: str, header: str, args: JsonObject) -> None:
        token = header.removeprefix("Bearer ").strip() or str(args.get("token") or "")
        if not token:
            raise SlackApiFailure("not_authed")
        if method == "apps.connections.open":  # the one method here that takes an app token
            if not token.startswith("xapp-"):
                raise SlackApiFailure("not_allowed_token_type")
            return
        if not token.startswith("xox") or (self.token is not None and token != self.token):
            raise SlackApiFailure("invalid_auth")

    def _route(self, method: str, args: JsonObject) -> JsonObject:
        handler = self._handlers().get(method)
        if handler is None:
            raise SlackApiFailure("unknown_method")
        with self._lock:
            return handler(args)

    def _handlers(self) -> dict[str, Callable[[JsonObject], JsonObject]]:
        return {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "views.open": self._views_open,
            "views.push": self._views_open,  # the same answer: the pushed view, stored
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "conversations.info": self._conversations_info,
        }

    # -- methods (called with the lock held) -----------------------------------------------------

    def _next_ts(self) -> str:
        n = next(self._ts_counter)
        return f"{_FIRST_TS_SECONDS + n}.{n:06d}"

    def _auth_test(self, args: JsonObject) -> JsonObject:
        return {
            "ok": True,
            "url": "https://dunbot-test.slack.com/",
            "team": "dunbot test",
            "user": "dunbot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": DEFAULT_BOT_ID,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, args: JsonObject) -> JsonObject:
        ticket = secrets.token_hex(8)
        return {"ok": True, "url": f"ws://127.0.0.1:{self._port}/link/?ticket={ticket}"}

    def _chat_post_message(self, args: JsonObject) -> JsonObject:
        channel = _required_channel(args)
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            raise SlackApiFailure("no_text")
        ts = self._next_ts()
        message = self._message_from(args, ts=ts)
        self._state.messages[(channel, ts)] = message
        response = load_fixture("chat.postMessage.response")
        response.update(channel=channel, ts=ts, message=copy.deepcopy(message))
        return response

    def _chat_update(self, args: JsonObject) -> JsonObject:
        channel = _required_channel(args)
        ts = str(args.get("ts") or "")
        if not ts:
            raise SlackApiFailure("invalid_arguments")
        stored = self._state.messages.get((channel, ts))
        if stored is None:
            if self.strict_updates:
                raise SlackApiFailure("message_not_found")
            stored = {"ts": ts}
        updated = {
            **stored,
            **self._message_from(args, ts=ts),
            "edited": {"user": self.bot_user_id},
        }
        if "thread_ts" in stored:
            updated["thread_ts"] = stored["thread_ts"]
        self._state.messages[(channel, ts)] = updated
        response = load_fixture("chat.update.response")
        response.update(
            channel=channel,
            ts=ts,
            text=updated.get("text", ""),
            message={"text": updated.get("text", ""), "user": self.bot_user_id},
        )
        if "blocks" in updated:
            response["message"]["blocks"] = copy.deepcopy(updated["blocks"])
        return response

    def _chat_post_ephemeral(self, args: JsonObject) -> JsonObject:
        channel = _required_channel(args)
        user = str(args.get("user") or "")
        if not user:
            raise SlackApiFailure("user_not_in_channel")
        if not (args.get("text") or args.get("blocks")):
            raise SlackApiFailure("no_text")
        ts = self._next_ts()
        self._state.ephemerals.append(
            {"channel": channel, **self._message_from(args, ts=ts), "user": user}
        )
        return {"ok": True, "message_ts": ts}

    def _views_open(self, args: JsonObject) -> JsonObject:
        if not args.get("trigger_id"):
            raise SlackApiFailure("invalid_arguments")
        return {"ok": True, "view": self._store_view(args)}

    def _views_update(self, args: JsonObject) -> JsonObject:
        view_id = str(args.get("view_id") or "")
        if view_id not in self._state.views:
            raise SlackApiFailure("not_found")
        return {"ok": True, "view": self._store_view(args, view_id=view_id)}

    def _views_publish(self, args: JsonObject) -> JsonObject:
        user_id = str(args.get("user_id") or "")
        if not user_id:
            raise SlackApiFailure("invalid_arguments")
        view = self._store_view(args)
        self._state.home_views[user_id] = view
        return {"ok": True, "view": view}

    def _users_info(self, args: JsonObject) -> JsonObject:
        user = self._state.users.get(str(args.get("user") or ""))
        if user is None:
            raise SlackApiFailure("user_not_found")
        return {"ok": True, "user": copy.deepcopy(user)}

    def _users_lookup_by_email(self, args: JsonObject) -> JsonObject:
        wanted = str(args.get("email") or "").strip().lower()
        for user in self._state.users.values():
            if wanted and str(user["profile"].get("email") or "").lower() == wanted:
                return {"ok": True, "user": copy.deepcopy(user)}
        raise SlackApiFailure("users_not_found")

    def _conversations_info(self, args: JsonObject) -> JsonObject:
        channel_id = str(args.get("channel") or "")
        if not _CONVERSATION_ID.match(channel_id):
            raise SlackApiFailure("channel_not_found")
        known = self._state.channels.get(channel_id, {})
        return {
            "ok": True,
            "channel": {
                "id": channel_id,
                "name": known.get("name", channel_id.lower()),
                "is_channel": channel_id.startswith("C"),
                "is_private": channel_id.startswith("G"),
                "is_im": channel_id.startswith("D"),
                "is_member": known.get("is_member", True),
                "is_archived": False,
                "context_team_id": self.team_id,
            },
        }

    def _message_from(self, args: JsonObject, *, ts: str) -> JsonObject:
        message: JsonObject = {
            "type": "message",
            "subtype": "bot_message",
            "bot_id": DEFAULT_BOT_ID,
            "user": self.bot_user_id,
            "ts": ts,
            "text": str(args.get("text") or ""),
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if key in args:
                message[key] = copy.deepcopy(args[key])
        return message

    def _store_view(self, args: JsonObject, *, view_id: str | None = None) -> JsonObject:
        requested = args.get("view")
        if not isinstance(requested, dict) or "type" not in requested:
            raise SlackApiFailure("invalid_arguments")
        view = load_fixture("views.open.response")["view"]
        view.update(
            id=view_id or "V" + secrets.token_hex(5).upper(),
            team_id=self.team_id,
            bot_id=DEFAULT_BOT_ID,
            private_metadata="",
            callback_id="",
            external_id="",
            state={"values": {}},
            hash=f"{_FIRST_TS_SECONDS}.{secrets.token_hex(4)}",
        )
        view.update(copy.deepcopy(requested))
        view["root_view_id"] = view["id"]
        if requested["type"] == "home":
            for modal_only in ("submit", "close", "title"):
                if modal_only not in requested:
                    view.pop(modal_only, None)
        self._state.views[view["id"]] = view
        return copy.deepcopy(view)

    # -- Socket Mode (in the server's loop) --------------------------------------------------

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()  # autoping: answers the SDK's pings with pongs
        await socket.prepare(request)
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
                "connection_info": {"app_id": DEFAULT_APP_ID},
            }
        )
        with self._lock:
            self._sockets.append(socket)
        assert self._socket_opened is not None
        self._socket_opened.set()
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    self._acknowledge(json.loads(message.data))
        finally:
            with self._lock:
                self._sockets.remove(socket)
                if not self._sockets:
                    self._socket_opened.clear()
        return socket

    def _acknowledge(self, ack: JsonObject) -> None:
        with self._lock:
            waiting = self._acks.pop(str(ack.get("envelope_id")), None)
        if waiting is not None and not waiting.done():
            waiting.set_result(ack)

    async def _push(self, envelope: JsonObject) -> None:
        assert self._socket_opened is not None
        await self._socket_opened.wait()
        with self._lock:
            socket = self._sockets[-1]
        await socket.send_json(envelope)

    async def _close_sockets(self) -> None:
        with self._lock:
            sockets = list(self._sockets)
        for socket in sockets:
            await socket.close()


def _required_channel(args: JsonObject) -> str:
    channel = str(args.get("channel") or "")
    if not channel:
        raise SlackApiFailure("channel_not_found")
    return channel


async def _read_args(request: web.Request) -> JsonObject:
    """Query string plus the form or JSON body, with JSON-valued form args decoded."""
    args: JsonObject = dict(request.query)
    raw = await request.read()
    if not raw:
        return args
    if request.content_type == "application/json":
        body = json.loads(raw)
        if isinstance(body, dict):
            args.update(body)
        return args
    for key, value in parse_qsl(raw.decode("utf-8"), keep_blank_values=True):
        args[key] = _maybe_json(value) if key in _JSON_ARGS else value
    return args


def _maybe_json(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value
