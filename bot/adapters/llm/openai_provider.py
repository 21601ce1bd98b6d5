"""OpenAI Chat Completions with a strict JSON schema (Structured Outputs), not streamed."""

from __future__ import annotations

import openai
from openai import AsyncOpenAI

from recovery.drafting.provider import (
    EMAIL_SCHEMA,
    ProviderOutputError,
    ProviderReply,
    Usage,
    email_from_json,
)

DEFAULT_OPENAI_MODEL = "gpt-5-mini"
MAX_COMPLETION_TOKENS = 2000


class OpenAIProvider:
    """Drafts via `client.chat.completions.create` with `response_format=json_schema`."""

    name = "openai"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        model: str = DEFAULT_OPENAI_MODEL,
        request_timeout_s: float = 30.0,
        max_retries: int = 1,
    ) -> None:
        self.model = model
        self._client = AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            timeout=request_timeout_s,
            max_retries=max_retries,
        )

    async def generate(self, *, system: str, user: str) -> ProviderReply:
        """One non-streamed completion, parsed into subject and body."""
        completion = await self._client.chat.completions.create(
            model=self.model,
            messages=[
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "dunning_email", "strict": True, "schema": EMAIL_SCHEMA},
            },
            max_completion_tokens=MAX_COMPLETION_TOKENS,
            stream=False,
        )
        usage = Usage(
            input_tokens=completion.usage.prompt_tokens if completion.usage else 0,
            output_tokens=completion.usage.completion_tokens if completion.usage else 0,
        )
        if not completion.choices:
            raise ProviderOutputError("no choices in the completion", usage=usage)
        choice = completion.choices[0]
        if choice.message.refusal:
            raise ProviderOutputError("the model refused", usage=usage)
        if choice.finish_reason == "length":
            raise ProviderOutputError("output was cut off (length)", usage=usage)
        return email_from_json(choice.message.content, usage=usage)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.close()


def is_retryable(error: BaseException) -> bool:
    """429, 5xx and network trouble are worth another try; other errors are not."""
    if isinstance(error, openai.APIConnectionError):
        return True
    return isinstance(error, openai.APIStatusError) and (
        error.status_code == 429 or error.status_code >= 500
    )
