"""A sandbox of the Slack Web API methods dunbot calls, kept in memory.

Mounted at `/sandbox/slack/api/{method}` so `SLACK_API_URL` can point dunbot's own
`AsyncWebClient` at it: the real SDK, real HTTP, no Slack account. It keeps what a workspace
would show: each channel's messages (edited in place by `chat.update`, replies under their
thread), ephemeral messages per user, the modal open for each user, and each user's App Home.
"""

from __future__ import annotations

import copy
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

JsonObject = dict[str, Any]

TEAM_ID = "T0SANDBOX"
TEAM_DOMAIN = "dunbot-sandbox"
BOT_USER_ID = "U0DUNBOT"
BOT_ID = "B0DUNBOT"
# Arguments the SDK sends as JSON strings when a call is form-encoded.
_JSON_ARGS = frozenset({"blocks", "attachments", "view", "metadata"})


@dataclass
class SandboxMessage:
    """One channel message as the sandbox workspace shows it."""

    channel: str
    ts: str
    text: str
    blocks: list[JsonObject]
    thread_ts: str | None = None
    edited: bool = False
    user: str = BOT_USER_ID

    def as_slack(self) -> JsonObject:
        message: JsonObject = {
            "type": "message",
            "user": self.user,
            "bot_id": BOT_ID,
            "ts": self.ts,
            "text": self.text,
            "blocks": copy.deepcopy(self.blocks),
        }
        if self.thread_ts:
            message["thread_ts"] = self.thread_ts
        if self.edited:
            message["edited"] = {"user": self.user, "ts": self.ts}
        return message


@dataclass
class Ephemeral:
    """A message only `user` sees, in `channel`."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[JsonObject] = field(default_factory=list)


@dataclass
class OpenModal:
    """The modal a user has open (one per user, as in Slack's simplest flows)."""

    id: str
    user: str
    view: JsonObject


class SlackApiError(Exception):
    """A Slack `{"ok": false, "error": …}` answer."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class SandboxSlack:
    """The in-memory workspace: channels, ephemerals, modals, App Home views."""

    def __init__(self, *, token: str, channels: dict[str, str]) -> None:
        """`channels` maps channel id → name (e.g. `{"CAPPROVALS": "dunning-approvals"}`)."""
        self.token = token
        self.channel_names = dict(channels)
        self.messages: dict[str, list[SandboxMessage]] = {c: [] for c in channels}
        self.ephemerals: list[Ephemeral] = []
        self.modals: dict[str, OpenModal] = {}
        self.homes: dict[str, JsonObject] = {}
        self.calls: list[tuple[str, JsonObject]] = []
        self._triggers: dict[str, str] = {}
        self._seq = itertools.count(1)
        self._last_ts = 0.0
        self.version = 0

    # -- bookkeeping ----------------------------------------------------------------------------

    def _changed(self) -> None:
        self.version += 1

    def next_ts(self) -> str:
        """A new message timestamp, strictly increasing (`1700000000.000123` shape)."""
        stamp = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = stamp
        return f"{stamp:.6f}"

    def new_trigger(self, user: str) -> str:
        """A trigger id for an interaction of `user` (views.open finds the user by it)."""
        trigger = f"{next(self._seq)}.{int(time.time())}.sandbox{next(self._seq):06d}"
        self._triggers[trigger] = user
        return trigger

    def find(self, channel: str, ts: str) -> SandboxMessage | None:
        return next((m for m in self.messages.get(channel, []) if m.ts == ts), None)

    def visible_ephemerals(self, user: str) -> list[Ephemeral]:
        return [e for e in self.ephemerals if e.user == user]

    def add_ephemeral(self, *, channel: str, user: str, text: str) -> Ephemeral:
        entry = Ephemeral(channel=channel, user=user, ts=self.next_ts(), text=text)
        self.ephemerals.append(entry)
        self._changed()
        return entry

    def close_modal(self, user: str, view_id: str | None = None) -> None:
        modal = self.modals.get(user)
        if modal is not None and (view_id is None or modal.id == view_id):
            del self.modals[user]
            self._changed()

    # -- the Web API methods ----------------------------------------------------------------------

    def call(self, method: str, args: JsonObject) -> JsonObject:
        """Carry out one Web API call; raises SlackApiError for Slack's `ok: false` answers."""
        handler = _METHODS.get(method)
        if handler is None:
            raise SlackApiError("unknown_method")
        self.calls.append((method, copy.deepcopy(args)))
        answer = handler(self, args)
        self._changed()
        return {"ok": True, **answer}

    def _channel(self, args: JsonObject) -> str:
        channel = str(args.get("channel") or "")
        if channel not in self.messages:
            raise SlackApiError("channel_not_found")
        return channel

    def auth_test(self, _args: JsonObject) -> JsonObject:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "dunbot sandbox",
            "user": "dunbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def chat_post_message(self, args: JsonObject) -> JsonObject:
        channel = self._channel(args)
        thread_ts = args.get("thread_ts") or None
        if thread_ts and self.find(channel, thread_ts) is None:
            raise SlackApiError("thread_not_found")
        if not args.get("text") and not args.get("blocks"):
            raise SlackApiError("no_text")
        message = SandboxMessage(
            channel=channel,
            ts=self.next_ts(),
            text=str(args.get("text") or ""),
            blocks=list(args.get("blocks") or []),
            thread_ts=thread_ts,
        )
        self.messages[channel].append(message)
        return {"channel": channel, "ts": message.ts, "message": message.as_slack()}

    def chat_update(self, args: JsonObject) -> JsonObject:
        channel = self._channel(args)
        message = self.find(channel, str(args.get("ts") or ""))
        if message is None:
            raise SlackApiError("message_not_found")
        if "text" in args:
            message.text = str(args.get("text") or "")
        if "blocks" in args:
            message.blocks = list(args.get("blocks") or [])
        message.edited = True
        return {
            "channel": channel,
            "ts": message.ts,
            "text": message.text,
            "message": message.as_slack(),
        }

    def chat_post_ephemeral(self, args: JsonObject) -> JsonObject:
        channel = self._channel(args)
        user = str(args.get("user") or "")
        if not user:
            raise SlackApiError("user_not_in_channel")
        entry = Ephemeral(
            channel=channel,
            user=user,
            ts=self.next_ts(),
            text=str(args.get("text") or ""),
            blocks=list(args.get("blocks") or []),
        )
        self.ephemerals.append(entry)
        return {"message_ts": entry.ts}

    def views_open(self, args: JsonObject) -> JsonObject:
        user = self._triggers.pop(str(args.get("trigger_id") or ""), None)
        if user is None:
            raise SlackApiError("invalid_trigger_id")
        view = args.get("view")
        if not isinstance(view, dict) or view.get("type") != "modal":
            raise SlackApiError("invalid_arguments")
        view_id = f"V{next(self._seq):08d}"
        stored = {**copy.deepcopy(view), "id": view_id, "team_id": TEAM_ID, "state": {"values": {}}}
        self.modals[user] = OpenModal(id=view_id, user=user, view=stored)
        return {"view": copy.deepcopy(stored)}

    def views_publish(self, args: JsonObject) -> JsonObject:
        user = str(args.get("user_id") or "")
        view = args.get("view")
        if not user or not isinstance(view, dict) or view.get("type") != "home":
            raise SlackApiError("invalid_arguments")
        stored = {**copy.deepcopy(view), "id": f"V{next(self._seq):08d}", "team_id": TEAM_ID}
        self.homes[user] = stored
        return {"view": copy.deepcopy(stored)}


_METHODS = {
    "auth.test": SandboxSlack.auth_test,
    "chat.postMessage": SandboxSlack.chat_post_message,
    "chat.update": SandboxSlack.chat_update,
    "chat.postEphemeral": SandboxSlack.chat_post_ephemeral,
    "views.open": SandboxSlack.views_open,
    "views.publish": SandboxSlack.views_publish,
}


async def _arguments(request: Request) -> JsonObject:
    """Query, form or JSON arguments, as slack_sdk sends them; JSON-valued args decoded."""
    args: JsonObject = dict(request.query_params)
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if body and "application/json" in content_type:
        parsed = json.loads(body)
        if not isinstance(parsed, dict):
            raise SlackApiError("invalid_json")
        args.update(parsed)
    elif body:
        args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    for name in _JSON_ARGS & args.keys():
        if isinstance(args[name], str) and args[name]:
            try:
                args[name] = json.loads(args[name])
            except json.JSONDecodeError:
                raise SlackApiError(f"invalid_{name}") from None
    return args


def _token(request: Request, args: JsonObject) -> str:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return credentials.strip()
    return str(args.pop("token", "") or "")


def slack_api_router(slack: SandboxSlack) -> APIRouter:
    """`POST /sandbox/slack/api/{method}`: Slack's answers, HTTP 200 with `ok` true or false."""
    router = APIRouter()

    @router.post("/sandbox/slack/api/{method}")
    async def web_api(method: str, request: Request) -> JSONResponse:
        try:
            args = await _arguments(request)
            token = _token(request, args)
            if not token:
                raise SlackApiError("not_authed")
            if not hmac.compare_digest(token.encode(), slack.token.encode()):
                raise SlackApiError("invalid_auth")
            return JSONResponse(slack.call(method, args))
        except SlackApiError as error:
            return JSONResponse({"ok": False, "error": error.error})

    return router
