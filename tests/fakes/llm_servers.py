"""Local fakes of the OpenAI Chat Completions and Anthropic Messages APIs.

They serve real HTTP on 127.0.0.1 (a free port) from a background thread, replaying the
response shapes of `tests/fixtures/llm/` with the content swapped for the scripted email, and
record every request. Point the official SDKs at them via `base_url`:

    async with FakeOpenAI() as llm:                 # base_url ends in /v1 (OPENAI_BASE_URL)
        llm.enqueue(LLMReply.email(subject="Hi", body="..."), LLMReply.error(500))
        drafter = build_drafter("openai", openai_api_key="sk-test", openai_base_url=llm.base_url)
        ...
        request = (await llm.wait_for_requests(1))[0]
        assert request.json["model"] == "gpt-5-mini"

    async with FakeAnthropic() as llm:              # base_url without /v1 (ANTHROPIC_BASE_URL)
        llm.default = LLMReply.hostile_link()

Scripted replies are used once each, in order; then `default` (a good email) answers.
`LLMReply.slow()` holds the response until the fake stops or `release()` is called, so
timeout tests need no sleeps. `latency_s` delays every answer (benchmarks: a model answering in
1 s); `spans` records each request's (start, end) times, to count calls in flight.
`respond_with(fn)` computes replies from the request JSON.
"""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from tests.fakes.fixtures import load_json_fixture
from tests.fakes.threaded_http import ThreadedAiohttpServer

JsonObject = dict[str, Any]

GOOD_SUBJECT = "Your payment did not go through"
GOOD_BODY = (
    "We tried to collect your latest subscription payment, but it did not go through. "
    "You can complete it in a minute on the secure page below."
)


def load_fixture(name: str) -> JsonObject:
    """One fixture by file stem, e.g. `openai_chat_completion` or `anthropic_message`."""
    return load_json_fixture("llm", name)


@dataclass(frozen=True)
class LLMReply:
    """One scripted answer of a fake LLM server."""

    kind: Literal["email", "malformed", "status", "slow"]
    subject: str = GOOD_SUBJECT
    body: str = GOOD_BODY
    status: int = 200
    input_tokens: int = 120
    output_tokens: int = 40
    retry_after_s: int | None = None

    @classmethod
    def rate_limited(cls, *, retry_after_s: int = 1) -> LLMReply:
        """HTTP 429 with `Retry-After: retry_after_s`."""
        return cls("status", status=429, retry_after_s=retry_after_s)

    @classmethod
    def email(cls, *, subject: str = GOOD_SUBJECT, body: str = GOOD_BODY) -> LLMReply:
        """A well-formed {subject, body} answer."""
        return cls("email", subject=subject, body=body)

    @classmethod
    def hostile_card(cls) -> LLMReply:
        """An email asking for the card number."""
        return cls.email(body="Please reply with your full card number and CVC so we can retry.")

    @classmethod
    def hostile_link(cls) -> LLMReply:
        """An email with a foreign link."""
        return cls.email(body="Please settle your balance quickly at evil.com/pay to avoid fees.")

    @classmethod
    def hostile_amount(cls) -> LLMReply:
        """An email stating an amount that is not the invoice's."""
        return cls.email(body="Your invoice of $999.00 is overdue, so please pay it right away.")

    @classmethod
    def malformed(cls) -> LLMReply:
        """OpenAI: content that is not JSON; Anthropic: a tool call without `body`."""
        return cls("malformed")

    @classmethod
    def error(cls, status: int = 500) -> LLMReply:
        """An API error with the provider's error body."""
        return cls("status", status=status)

    @classmethod
    def slow(cls) -> LLMReply:
        """No answer until `release()` or the fake stops."""
        return cls("slow")


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received (credentials are never kept, only whether one came)."""

    method: str
    path: str
    headers: dict[str, str]
    json: JsonObject
    authorised: bool


@dataclass
class _Script:
    replies: deque[LLMReply] = field(default_factory=deque)
    responder: Callable[[JsonObject], LLMReply | None] | None = None


_SECRET_HEADERS = {"authorization", "x-api-key"}


class _FakeLLMServer(ThreadedAiohttpServer[RecordedRequest]):
    """Threaded aiohttp server shared by both fakes; subclasses shape requests and replies."""

    thread_name = "fake-llm"
    path = "/"
    base_path = ""
    shutdown_timeout = 1.0

    def __init__(self) -> None:
        super().__init__()
        self.default = LLMReply.email()
        self.latency_s = 0.0
        self._spans: list[tuple[float, float]] = []
        self._script = _Script()
        self._release: asyncio.Event | None = None

    # -- scripting ------------------------------------------------------------------------

    def enqueue(self, *replies: LLMReply) -> None:
        """Answer the next requests with these replies, in order."""
        with self._lock:
            self._script.replies.extend(replies)

    def respond_with(self, responder: Callable[[JsonObject], LLMReply | None]) -> None:
        """Compute replies from the request JSON (None: use the queue or default)."""
        self._script.responder = responder

    def release(self) -> None:
        """Let held `slow()` replies finish."""
        if self._loop is not None and self._release is not None:
            self._loop.call_soon_threadsafe(self._release.set)

    @property
    def spans(self) -> list[tuple[float, float]]:
        """(start, end) epoch seconds of every answered request, in the order they ended."""
        with self._lock:
            return list(self._spans)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Requests received so far."""
        return self._matching(lambda _request: True)

    async def wait_for_requests(self, count: int, *, timeout: float = 5.0) -> list[RecordedRequest]:
        """Wait (no polling) until at least `count` requests arrived."""
        return await self._wait_for(lambda _request: True, count, timeout)

    # -- lifecycle ------------------------------------------------------------------------

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_post(self.path, self._handle)

    def _on_serve(self) -> None:
        self._release = asyncio.Event()

    def _before_stop(self) -> None:
        self.release()

    # -- HTTP -----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        started = time.time()
        try:
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            return await self._answer(request)
        finally:
            with self._lock:
                self._spans.append((started, time.time()))

    async def _answer(self, request: web.Request) -> web.Response:
        try:
            payload = await request.json()
        except json.JSONDecodeError:
            payload = {}
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _SECRET_HEADERS}
        recorded = RecordedRequest(
            request.method, request.path, headers, payload, self._authorised(request)
        )
        self._record(recorded)
        if not recorded.authorised:
            return self._error_response(401, "invalid api key")
        problem = self._invalid(payload)
        if problem:
            return self._error_response(400, problem)
        reply = self._next_reply(payload)
        if reply.kind == "slow":
            assert self._release is not None
            await self._release.wait()
            reply = self.default
        if reply.kind == "status":
            response = self._error_response(reply.status, "The server had an error.")
            if reply.retry_after_s is not None:
                del response.headers["retry-after-ms"]
                response.headers["retry-after"] = str(reply.retry_after_s)
            return response
        return web.json_response(self._success_body(payload, reply))

    def _next_reply(self, payload: JsonObject) -> LLMReply:
        responder = self._script.responder
        if responder is not None and (reply := responder(payload)) is not None:
            return reply
        with self._lock:
            return self._script.replies.popleft() if self._script.replies else self.default

    def _error_response(self, status: int, message: str) -> web.Response:
        # retry-after-ms keeps the SDKs' one retry fast; real APIs send retry hints too.
        return web.json_response(
            self._error_body(status, message), status=status, headers={"retry-after-ms": "5"}
        )

    def _authorised(self, request: web.Request) -> bool:
        raise NotImplementedError

    def _invalid(self, payload: JsonObject) -> str | None:
        raise NotImplementedError

    def _error_body(self, status: int, message: str) -> JsonObject:
        raise NotImplementedError

    def _success_body(self, payload: JsonObject, reply: LLMReply) -> JsonObject:
        raise NotImplementedError


class FakeOpenAI(_FakeLLMServer):
    """POST /v1/chat/completions, answering in the shape of `openai_chat_completion.json`."""

    thread_name = "fake-openai"
    path = "/v1/chat/completions"
    base_path = "/v1"

    def _authorised(self, request: web.Request) -> bool:
        return bool(request.headers.get("Authorization", "").removeprefix("Bearer ").strip())

    def _invalid(self, payload: JsonObject) -> str | None:
        if not payload.get("model") or not payload.get("messages"):
            return "'model' and 'messages' are required"
        if payload.get("stream"):
            return "this fake does not stream"
        return None

    def _error_body(self, status: int, message: str) -> JsonObject:
        kind = "server_error" if status >= 500 else "invalid_request_error"
        return {"error": {"message": message, "type": kind, "param": None, "code": None}}

    def _success_body(self, payload: JsonObject, reply: LLMReply) -> JsonObject:
        body = copy.deepcopy(load_fixture("openai_chat_completion"))
        body["id"] = f"chatcmpl-{secrets.token_hex(12)}"
        body["model"] = payload["model"]
        message = body["choices"][0]["message"]
        if reply.kind == "malformed":
            message["content"] = '{"subject": "Payment failed", "body": "We could not'
        else:
            message["content"] = json.dumps({"subject": reply.subject, "body": reply.body})
        usage = body["usage"]
        usage["prompt_tokens"] = reply.input_tokens
        usage["completion_tokens"] = reply.output_tokens
        usage["total_tokens"] = reply.input_tokens + reply.output_tokens
        return body


class FakeAnthropic(_FakeLLMServer):
    """POST /v1/messages, answering in the shape of `anthropic_message.json` with a tool call."""

    thread_name = "fake-anthropic"
    path = "/v1/messages"
    base_path = ""

    def _authorised(self, request: web.Request) -> bool:
        # Older SDKs send x-api-key; anthropic 2.x sends the key as a Bearer token.
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return bool(request.headers.get("x-api-key", "").strip() or bearer)

    def _invalid(self, payload: JsonObject) -> str | None:
        if not payload.get("model") or not payload.get("messages") or not payload.get("max_tokens"):
            return "'model', 'messages' and 'max_tokens' are required"
        if payload.get("stream"):
            return "this fake does not stream"
        return None

    def _error_body(self, status: int, message: str) -> JsonObject:
        kind = "api_error" if status >= 500 else "invalid_request_error"
        return {"type": "error", "error": {"type": kind, "message": message}}

    def _success_body(self, payload: JsonObject, reply: LLMReply) -> JsonObject:
        body = copy.deepcopy(load_fixture("anthropic_message"))
        body["id"] = f"msg_{secrets.token_hex(12)}"
        body["model"] = payload["model"]
        tool_name = (payload.get("tool_choice") or {}).get("name", "write_email")
        tool_input: JsonObject = {"subject": reply.subject, "body": reply.body}
        if reply.kind == "malformed":
            tool_input = {"subject": reply.subject}
        body["content"] = [
            {
                "type": "tool_use",
                "id": f"toolu_{secrets.token_hex(12)}",
                "name": tool_name,
                "input": tool_input,
            }
        ]
        body["stop_reason"] = "tool_use"
        body["usage"]["input_tokens"] = reply.input_tokens
        body["usage"]["output_tokens"] = reply.output_tokens
        return body
