"""Anthropic Messages API with one forced tool whose input is the email."""

from __future__ import annotations

import anthropic
from anthropic import AsyncAnthropic

from recovery.drafting.provider import (
    EMAIL_SCHEMA,
    ProviderOutputError,
    ProviderReply,
    Usage,
    email_from_object,
)

DEFAULT_ANTHROPIC_MODEL = "claude-haiku-4-5"
TOOL_NAME = "write_email"
MAX_TOKENS = 1024


class AnthropicProvider:
    """Drafts via `client.messages.create` with `tool_choice` forcing `write_email`."""

    name = "anthropic"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        model: str = DEFAULT_ANTHROPIC_MODEL,
        request_timeout_s: float = 30.0,
        max_retries: int = 1,
    ) -> None:
        self.model = model
        self._client = AsyncAnthropic(
            api_key=api_key,
            base_url=base_url,
            timeout=request_timeout_s,
            max_retries=max_retries,
        )

    async def generate(self, *, system: str, user: str) -> ProviderReply:
        """One non-streamed message; the email is the input of the forced tool call."""
        message = await self._client.messages.create(
            model=self.model,
            max_tokens=MAX_TOKENS,
            system=system,
            messages=[{"role": "user", "content": user}],
            tools=[
                {
                    "name": TOOL_NAME,
                    "description": "Submit the payment reminder email (subject and body).",
                    "input_schema": EMAIL_SCHEMA,
                }
            ],
            tool_choice={"type": "tool", "name": TOOL_NAME, "disable_parallel_tool_use": True},
        )
        usage = Usage(
            input_tokens=message.usage.input_tokens, output_tokens=message.usage.output_tokens
        )
        for block in message.content:
            if block.type == "tool_use" and block.name == TOOL_NAME:
                return email_from_object(block.input, usage=usage)
        raise ProviderOutputError(f"no {TOOL_NAME} tool call in the reply", usage=usage)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.close()


def is_retryable(error: BaseException) -> bool:
    """429, 5xx and network trouble are worth another try; other errors are not."""
    if isinstance(error, anthropic.APIConnectionError):
        return True
    return isinstance(error, anthropic.APIStatusError) and (
        error.status_code == 429 or error.status_code >= 500
    )
