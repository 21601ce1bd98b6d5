"""Posts to one channel are spaced by the interval; other channels are independent."""

from __future__ import annotations

import pytest

from bot.slack.notifier import ChannelPacer
from storage.queue import RetryLater


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


async def test_posts_to_one_channel_wait_their_turn_and_far_turns_are_rescheduled() -> None:
    clock = FakeClock()
    pacer = ChannelPacer(1.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await pacer.wait_turn("C1")
    await pacer.wait_turn("C2")
    assert clock.sleeps == [1.0, 2.0]  # C1: now, +1 s, +2 s; C2 did not wait
    for _ in range(3):
        await pacer.wait_turn("C1")
    with pytest.raises(RetryLater) as later:
        await pacer.wait_turn("C1")  # six seconds away: give the worker slot back
    assert later.value.delay_s == pytest.approx(6.0)
    clock.now += 10
    await pacer.wait_turn("C1")
    assert clock.sleeps[-1] == 5.0 and len(clock.sleeps) == 5


async def test_a_card_that_must_wait_gives_its_slot_back_and_posts_in_its_reserved_turn() -> None:
    clock = FakeClock()
    pacer = ChannelPacer(1.0, clock=clock, sleep=clock.sleep)
    await pacer.wait_turn("C1", key="card:a")
    await pacer.wait_turn("C1", key="card:b")  # one interval away: a short wait in the slot
    assert clock.sleeps == [1.0]
    with pytest.raises(RetryLater) as later_c:
        await pacer.wait_turn("C1", key="card:c")
    with pytest.raises(RetryLater) as later_d:
        await pacer.wait_turn("C1", key="card:d")
    assert (later_c.value.delay_s, later_d.value.delay_s) == (2.0, 3.0)
    clock.now += 2.0  # card:c's job is due again: its turn was kept for it
    await pacer.wait_turn("C1", key="card:c")
    with pytest.raises(RetryLater) as later_e:
        await pacer.wait_turn("C1", key="card:e")  # a newcomer queues behind card:d
    assert later_e.value.delay_s == 2.0
    clock.now += 1.0
    await pacer.wait_turn("C1", key="card:d")
    assert clock.sleeps == [1.0]
