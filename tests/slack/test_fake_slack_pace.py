"""The fake Slack paces posting per channel and method as Slack does (429 + Retry-After)."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_server import FakeSlack


async def test_posts_beyond_the_pace_get_429_with_retry_after() -> None:
    async with FakeSlack(channel_pace_s=60.0, channel_burst=2) as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
        first = await client.chat_postMessage(channel="C1", text="one")
        await client.chat_postMessage(channel="C1", text="two")  # the burst
        with pytest.raises(SlackApiError) as refused:
            await client.chat_postMessage(channel="C1", text="three")
        assert refused.value.response.status_code == 429
        assert int(refused.value.response.headers["Retry-After"]) >= 59
        await client.chat_postMessage(channel="C2", text="another channel")
        await client.chat_update(channel="C1", ts=first["ts"], text="edited")  # its own bucket
        assert [call.status for call in slack.calls_to("chat.postMessage")] == [200, 200, 429, 200]


async def test_unpaced_by_default() -> None:
    async with FakeSlack() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
        for n in range(5):
            await client.chat_postMessage(channel="C1", text=str(n))
        assert {call.status for call in slack.calls} == {200}
