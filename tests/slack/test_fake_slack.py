"""The fake Slack Web API, driven by the real slack_sdk AsyncWebClient."""

from __future__ import annotations

import asyncio

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks.approval import approval_card
from bot.slack.blocks.home import home_tab
from bot.slack.blocks.modals import edit_modal
from bot.slack.views import ApprovalStatus, HomeView
from tests.fakes.slack_server import FakeSlack
from tests.slack.conftest import make_approval

TOKEN = "xoxb-test-token"


def client_for(slack: FakeSlack, token: str = TOKEN) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=slack.base_url)


async def test_post_then_update_on_the_stored_ts(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    text, blocks = approval_card(make_approval())
    posted = await client.chat_postMessage(channel="C0APPROVE", text=text, blocks=blocks)
    assert posted["ok"] is True
    assert posted["channel"] == "C0APPROVE"
    ts = posted["ts"]

    text, blocks = approval_card(make_approval(status=ApprovalStatus.APPROVED, decided_by="U123"))
    updated = await client.chat_update(channel="C0APPROVE", ts=ts, text=text, blocks=blocks)
    assert updated["ts"] == ts

    calls = fake_slack.calls_to("chat.postMessage") + fake_slack.calls_to("chat.update")
    assert [c.method for c in calls] == ["chat.postMessage", "chat.update"]
    assert calls[0].args["blocks"][0]["type"] == "header"  # the card opens with its state
    assert calls[0].token == TOKEN
    assert calls[0].headers["Authorization"] == f"Bearer {TOKEN}"
    stored = fake_slack.message("C0APPROVE", ts)
    assert "approved by <@U123>" in stored["text"]
    assert stored["blocks"] == blocks


async def test_ts_increases_per_post(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    stamps = [(await client.chat_postMessage(channel="C1", text=f"m{i}"))["ts"] for i in range(3)]
    assert stamps == sorted(stamps, key=float)
    assert len(set(stamps)) == 3
    reply = await client.chat_postMessage(channel="C1", text="in thread", thread_ts=stamps[0])
    assert float(reply["ts"]) > float(stamps[-1])
    assert fake_slack.message("C1", reply["ts"])["thread_ts"] == stamps[0]


async def test_update_of_an_unknown_ts_is_message_not_found(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client_for(fake_slack).chat_update(channel="C1", ts="1.000001", text="x")
    assert caught.value.response["error"] == "message_not_found"


async def test_429_surfaces_retry_after(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    fake_slack.rate_limit_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="C1", text="hello")
    response = caught.value.response
    assert response.status_code == 429
    assert response["error"] == "ratelimited"
    assert response.headers["Retry-After"] == "7"
    # One-shot: the next call goes through.
    assert (await client.chat_postMessage(channel="C1", text="hello"))["ok"] is True
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [429, 200]


async def test_scripted_error(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    fake_slack.fail_next("views.open", error="expired_trigger_id")
    with pytest.raises(SlackApiError) as caught:
        await client.views_open(trigger_id="1.2.3", view=edit_modal(make_approval()))
    assert caught.value.response["error"] == "expired_trigger_id"
    opened = await client.views_open(trigger_id="1.2.3", view=edit_modal(make_approval()))
    assert opened["view"]["callback_id"] == "modal.edit_draft"
    assert opened["view"]["id"].startswith("V")


async def test_bad_tokens_are_refused() -> None:
    async with FakeSlack(token=TOKEN) as slack:
        with pytest.raises(SlackApiError) as caught:
            await client_for(slack, token="xoxb-wrong").auth_test()
        assert caught.value.response["error"] == "invalid_auth"
        assert (await client_for(slack).auth_test())["user_id"] == slack.bot_user_id


async def test_ephemeral_publish_users_and_conversations(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    fake_slack.add_user("U123", real_name="Fin Ance", email="fin@example.com")
    fake_slack.add_channel("C0APPROVE", name="approvals")

    ephemeral = await client.chat_postEphemeral(channel="C1", user="U123", text="only you")
    assert ephemeral["message_ts"]
    assert fake_slack.ephemerals[0]["text"] == "only you"

    published = await client.views_publish(user_id="U123", view=home_tab(HomeView(user_id="U123")))
    assert published["view"]["type"] == "home"
    assert fake_slack.home_views["U123"]["blocks"]

    user = await client.users_info(user="U123")
    assert user["user"]["profile"]["email"] == "fin@example.com"
    with pytest.raises(SlackApiError):
        await client.users_info(user="U404")

    channel = await client.conversations_info(channel="C0APPROVE")
    assert channel["channel"]["name"] == "approvals"
    assert fake_slack.calls_to("users.info")[0].http_method == "GET"
    assert fake_slack.calls_to("users.info")[0].args["user"] == "U123"


async def test_wait_for_wakes_on_the_call(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)

    async def post_later() -> None:
        await asyncio.sleep(0.05)  # simulates a worker acting later
        await client.chat_postMessage(channel="C1", text="one")
        await client.chat_postMessage(channel="C1", text="two")

    task = asyncio.create_task(post_later())
    calls = await fake_slack.wait_for("chat.postMessage", count=2, timeout=5)
    await task
    assert [c.args["text"] for c in calls] == ["one", "two"]


async def test_wait_for_times_out_with_what_it_saw(fake_slack: FakeSlack) -> None:
    await client_for(fake_slack).auth_test()
    with pytest.raises(TimeoutError, match=r"chat.update.*auth.test"):
        await fake_slack.wait_for("chat.update", timeout=0.1)


def test_sync_use_from_a_blocking_test() -> None:
    with FakeSlack() as slack:

        async def post() -> None:
            await client_for(slack).chat_postMessage(channel="C1", text="sync")

        asyncio.run(post())
        assert slack.wait_for_sync("chat.postMessage")[0].args["text"] == "sync"
