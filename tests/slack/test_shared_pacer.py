"""Two worker processes posting to (and updating in) one channel keep Slack's pace together
(no 429)."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks.kit import Message
from bot.slack.notifier import SlackNotifier
from bot.slack.pacing import SharedChannelPacer
from storage.db import Database
from storage.queue import RetryLater
from tests.fakes.slack_server import FakeSlack

T0 = 1_800_000_000.0


class FakeClock:
    """Epoch seconds that move only when the test (or a pacer's sleep) moves them."""

    def __init__(self) -> None:
        self.now = T0

    def seconds(self) -> float:
        return self.now

    def utc(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_two_processes_posting_cards_to_one_channel_keep_one_post_per_interval(
    database_url: str,
) -> None:
    clock = FakeClock()
    engines = [Database(database_url), Database(database_url)]  # two worker processes
    pacers = [
        SharedChannelPacer(db=engine, interval_s=1.0, clock=clock.utc, sleep=clock.sleep)
        for engine in engines
    ]
    posted: list[float] = []
    try:
        async with FakeSlack(channel_pace_s=1.0, channel_burst=1, clock=clock.seconds) as slack:
            client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
            jobs = [(T0, card) for card in range(10)]  # ten card jobs due now, alternating
            while jobs:  # a queue: the earliest due job runs next, in process card % 2
                jobs.sort()
                due, card = jobs.pop(0)
                clock.now = max(clock.now, due)
                try:
                    await pacers[card % 2].wait_turn("C1", key=f"approval_card:{card}")
                except RetryLater as later:  # gives its worker slot back
                    jobs.append((clock.now + later.delay_s, card))
                    continue
                await client.chat_postMessage(channel="C1", text=f"card {card}")
                posted.append(clock.now)
            assert {call.status for call in slack.calls_to("chat.postMessage")} == {200}
        assert len(posted) == 10
        gaps = [later - earlier for earlier, later in zip(posted, posted[1:], strict=False)]
        assert min(gaps) >= 1.0 - 1e-6
        assert posted[-1] - posted[0] < 9.5  # and no slower than the pace
    finally:
        for engine in engines:
            await engine.dispose()


async def test_two_processes_updating_messages_in_one_channel_keep_the_update_pace(
    database_url: str,
) -> None:
    clock = FakeClock()
    engines = [Database(database_url), Database(database_url)]
    try:
        async with FakeSlack(channel_pace_s=1.0, channel_burst=1, clock=clock.seconds) as slack:
            client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
            notifiers = [
                SlackNotifier(
                    db=engine,
                    client=client,
                    approvals_channel="C1",
                    vip_channel="C2",
                    account_managers=[],
                    pacer=SharedChannelPacer(
                        db=engine, interval_s=1.0, clock=clock.utc, sleep=clock.sleep
                    ),
                )
                for engine in engines
            ]
            posted = await client.chat_postMessage(channel="C1", text="digest")
            updated_at: list[float] = []
            for n in range(6):  # the digest refreshed after each card, by either process
                await notifiers[n % 2]._update("C1", posted["ts"], Message(text=f"v{n}", blocks=[]))
                updated_at.append(clock.now)
            assert {call.status for call in slack.calls} == {200}
        gaps = [later - earlier for earlier, later in zip(updated_at, updated_at[1:], strict=False)]
        assert min(gaps) >= 1.0 - 1e-6
    finally:
        for engine in engines:
            await engine.dispose()
