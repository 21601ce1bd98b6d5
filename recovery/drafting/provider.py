"""The internal LLM provider interface and the shared output schema."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

EMAIL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "subject": {"type": "string", "description": "One-line email subject."},
        "body": {"type": "string", "description": "At most three sentences of plain prose."},
    },
    "required": ["subject", "body"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Usage:
    """Tokens one provider call consumed."""

    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class ProviderReply:
    """A subject and body as the model wrote them, with the tokens it cost."""

    subject: str
    body: str
    usage: Usage


class ProviderOutputError(Exception):
    """The model answered, but not with a usable {subject, body} object."""

    def __init__(self, message: str, *, usage: Usage | None = None) -> None:
        super().__init__(message)
        self.usage = usage or Usage()


class ProviderDeferred(Exception):  # noqa: N818 - a signal, not an error
    """The provider may not be called now: the shared per-minute budget is spent, or the
    provider asked every caller to wait (a 429's Retry-After). The draft runs again after
    `delay_s` instead of falling back to the template."""

    def __init__(self, *, delay_s: float, reason: str) -> None:
        super().__init__(reason)
        self.delay_s = delay_s
        self.reason = reason


class LLMProvider(Protocol):
    """One LLM API behind one method. Raises ProviderOutputError, ProviderDeferred or the
    SDK's errors."""

    name: str
    model: str

    async def generate(self, *, system: str, user: str) -> ProviderReply: ...

    async def aclose(self) -> None: ...


def email_from_object(data: object, *, usage: Usage) -> ProviderReply:
    """Validate a decoded {subject, body} object into a reply."""
    if not isinstance(data, dict):
        raise ProviderOutputError("output is not a JSON object", usage=usage)
    subject, body = data.get("subject"), data.get("body")
    if not isinstance(subject, str) or not isinstance(body, str):
        raise ProviderOutputError("output lacks string 'subject' and 'body'", usage=usage)
    return ProviderReply(subject=subject.strip(), body=body.strip(), usage=usage)


def email_from_json(text: str | None, *, usage: Usage) -> ProviderReply:
    """Parse the model's JSON text into a reply."""
    if not text:
        raise ProviderOutputError("empty output", usage=usage)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProviderOutputError(f"output is not valid JSON ({error.msg})", usage=usage) from None
    return email_from_object(data, usage=usage)
