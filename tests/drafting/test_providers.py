"""The real OpenAI and Anthropic SDKs against local fake servers: request and parsing."""

from __future__ import annotations

import re

import pytest

from bot.adapters.llm.anthropic_provider import AnthropicProvider
from bot.adapters.llm.openai_provider import OpenAIProvider
from recovery.drafting import ProviderOutputError
from tests.fakes.llm_servers import GOOD_BODY, GOOD_SUBJECT, FakeAnthropic, FakeOpenAI, LLMReply


async def test_openai_structured_output_request_and_parsing(fake_openai: FakeOpenAI) -> None:
    provider = OpenAIProvider(api_key="sk-test", base_url=fake_openai.base_url, model="gpt-x")
    try:
        reply = await provider.generate(system="SYSTEM", user="USER")
    finally:
        await provider.aclose()

    assert (reply.subject, reply.body) == (GOOD_SUBJECT, GOOD_BODY)
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (120, 40)
    [request] = fake_openai.requests
    sent = request.json
    assert request.path == "/v1/chat/completions" and request.authorised
    assert sent["model"] == "gpt-x"
    assert not sent.get("stream")
    assert sent["messages"] == [
        {"role": "system", "content": "SYSTEM"},
        {"role": "user", "content": "USER"},
    ]
    fmt = sent["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    assert schema["required"] == ["subject", "body"]
    assert schema["additionalProperties"] is False


async def test_anthropic_tool_use_request_and_parsing(fake_anthropic: FakeAnthropic) -> None:
    provider = AnthropicProvider(
        api_key="sk-ant-test", base_url=fake_anthropic.base_url, model="claude-x"
    )
    try:
        reply = await provider.generate(system="SYSTEM", user="USER")
    finally:
        await provider.aclose()

    assert (reply.subject, reply.body) == (GOOD_SUBJECT, GOOD_BODY)
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (120, 40)
    [request] = fake_anthropic.requests
    sent = request.json
    assert request.path == "/v1/messages" and request.authorised
    assert sent["model"] == "claude-x" and sent["system"] == "SYSTEM"
    assert sent["messages"] == [{"role": "user", "content": "USER"}]
    assert not sent.get("stream")
    [tool] = sent["tools"]
    assert tool["name"] == "write_email"
    assert tool["input_schema"]["required"] == ["subject", "body"]
    assert sent["tool_choice"]["type"] == "tool" and sent["tool_choice"]["name"] == "write_email"


async def test_openai_malformed_json_is_an_output_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(LLMReply.malformed())
    provider = OpenAIProvider(api_key="sk-test", base_url=fake_openai.base_url)
    try:
        with pytest.raises(ProviderOutputError, match="not valid JSON") as caught:
            await provider.generate(system="s", user="u")
    finally:
        await provider.aclose()
    assert caught.value.usage.input_tokens == 120


async def test_anthropic_tool_call_without_body_is_an_output_error(
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.enqueue(LLMReply.malformed())
    provider = AnthropicProvider(api_key="sk-ant-test", base_url=fake_anthropic.base_url)
    try:
        with pytest.raises(ProviderOutputError, match=re.escape("'subject' and 'body'")):
            await provider.generate(system="s", user="u")
    finally:
        await provider.aclose()
