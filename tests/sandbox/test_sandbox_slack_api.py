"""The sandbox Slack Web API, driven by the real slack_sdk AsyncWebClient over HTTP."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack_api import SandboxSlack, slack_api_router
from tests.e2e.serve import serving

TOKEN = "xoxb-sandbox"


def _app(slack: SandboxSlack) -> FastAPI:
    app = FastAPI()
    app.include_router(slack_api_router(slack))
    return app


async def test_messages_updates_ephemerals_modals_and_home_through_the_sdk() -> None:
    slack = SandboxSlack(token=TOKEN, channels={"CAPPROVALS": "approvals"})
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    async with serving(lambda _port: _app(slack), lifespan="off") as url:
        client = AsyncWebClient(token=TOKEN, base_url=f"{url}/sandbox/slack/api/")

        auth = await client.auth_test()
        assert auth["ok"] and auth["user_id"]

        posted = await client.chat_postMessage(channel="CAPPROVALS", text="card", blocks=blocks)
        reply = await client.chat_postMessage(
            channel="CAPPROVALS", text="in thread", thread_ts=posted["ts"]
        )
        assert float(reply["ts"]) > float(posted["ts"])
        updated = await client.chat_update(
            channel="CAPPROVALS", ts=posted["ts"], text="card v2", blocks=[]
        )
        assert updated["ts"] == posted["ts"]
        parent = slack.find("CAPPROVALS", posted["ts"])
        assert parent is not None
        assert (parent.text, parent.blocks, parent.edited) == ("card v2", [], True)
        threaded = slack.find("CAPPROVALS", reply["ts"])
        assert threaded is not None and threaded.thread_ts == posted["ts"]

        await client.chat_postEphemeral(channel="CAPPROVALS", user="UFIN", text="only you")
        assert [(e.user, e.text) for e in slack.visible_ephemerals("UFIN")] == [
            ("UFIN", "only you")
        ]
        assert slack.visible_ephemerals("UOTHER") == []

        trigger = slack.new_trigger("UFIN")
        view = {
            "type": "modal",
            "callback_id": "modal.x",
            "title": {"type": "plain_text", "text": "T"},
            "private_metadata": '{"a":1}',
            "blocks": [],
        }
        opened = await client.views_open(trigger_id=trigger, view=view)
        assert slack.modals["UFIN"].id == opened["view"]["id"]
        assert slack.modals["UFIN"].view["private_metadata"] == '{"a":1}'

        await client.views_publish(user_id="UFIN", view={"type": "home", "blocks": blocks})
        assert slack.homes["UFIN"]["blocks"] == blocks

        with pytest.raises(SlackApiError) as stale:
            await client.views_open(trigger_id=trigger, view=view)  # a trigger works once
        assert stale.value.response["error"] == "invalid_trigger_id"
        with pytest.raises(SlackApiError) as missing:
            await client.chat_update(channel="CAPPROVALS", ts="1.000001", text="x")
        assert missing.value.response["error"] == "message_not_found"
        with pytest.raises(SlackApiError) as nochannel:
            await client.chat_postMessage(channel="CNOPE", text="x")
        assert nochannel.value.response["error"] == "channel_not_found"
        with pytest.raises(SlackApiError) as bad_token:
            await AsyncWebClient(token="xoxb-wrong", base_url=client.base_url).auth_test()
        assert bad_token.value.response["error"] == "invalid_auth"
