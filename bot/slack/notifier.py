"""SlackNotifier: the Notifier protocol on Slack's Web API.

Runs inside jobs only. Every call renders the current database state: the first call posts a
card and stores its `ts`, later calls `chat.update` it in place. A 429 reschedules the job
after Retry-After. New posts to one channel are paced at about one per second, and a burst
of failures is summarised in a digest message with the cards in its thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.slack.blocks.approval import approval_card
from bot.slack.blocks.digest import digest_message
from bot.slack.blocks.escalation import escalation_message
from bot.slack.blocks.kit import Message
from bot.slack.blocks.vip import vip_reminder_message, vip_task_card
from bot.slack.cards import amount_text, approval_view, vip_view
from bot.slack.metadata import CardKind
from bot.slack.views import DigestItem, DigestView
from storage.db import Database
from storage.models import Case, SlackMessage, utcnow
from storage.queue import RetryLater

log = logging.getLogger("dunbot.slack")

APPROVAL_CARD = CardKind.DRAFT.message_kind
VIP_CARD = CardKind.VIP_TASK.message_kind
BURST_WINDOW_S = 60
BURST_THRESHOLD = 5
DIGEST_WINDOW_S = 600
MIN_POST_INTERVAL_S = 1.0

T = TypeVar("T")


class ChannelPacer:
    """About one new message per second per channel (Slack's posting limit), in-process.

    A post whose turn is further away than a few intervals is not waited for: the job is
    rescheduled (RetryLater) so it does not hold a worker slot.
    """

    def __init__(
        self,
        interval_s: float = MIN_POST_INTERVAL_S,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._sleep = sleep
        self._next_slot: dict[str, float] = {}

    async def wait_turn(self, channel: str) -> None:
        now = self._clock()
        slot = max(now, self._next_slot.get(channel, 0.0))
        delay = slot - now
        if delay > 5 * self.interval_s:
            raise RetryLater(delay, f"pacing posts to {channel}")
        self._next_slot[channel] = slot + self.interval_s
        if delay > 0:
            await self._sleep(delay)


def _retry_after(error: SlackApiError) -> float | None:
    if error.response.status_code == 429:
        return float(error.response.headers.get("Retry-After", "1") or 1)
    return None


class SlackNotifier:
    """Posts and updates dunbot's cards in the approvals and VIP channels."""

    def __init__(
        self,
        *,
        db: Database,
        client: AsyncWebClient,
        approvals_channel: str,
        vip_channel: str,
        account_managers: Sequence[str],
        livemode: bool = True,
        stripe_dashboard: bool = True,
        pacer: ChannelPacer | None = None,
        sms_choice: bool = False,
    ) -> None:
        self.db = db
        self.client = client
        self.approvals_channel = approvals_channel
        self.vip_channel = vip_channel
        self.account_managers = list(account_managers)
        self.livemode = livemode
        self.stripe_dashboard = stripe_dashboard
        self.pacer = pacer or ChannelPacer()
        self.sms_choice = sms_choice  # email and SMS both on: the card offers either alone

    async def sync_approval_card(self, *, draft_id: int) -> None:
        async with self.db.sessions() as session:
            view = await approval_view(session, draft_id)
        if view is not None:
            view = replace(view, sms_choice=self.sms_choice)
            await self._show(
                APPROVAL_CARD, draft_id, view.case_id, self.approvals_channel, approval_card(view)
            )

    async def sync_vip_task_card(self, *, task_id: int) -> None:
        async with self.db.sessions() as session:
            view = await vip_view(
                session,
                task_id,
                livemode=self.livemode,
                stripe_dashboard=self.stripe_dashboard,
            )
            task_case = await _case_id_of_task(session, task_id)
        if view is not None:
            await self._show(VIP_CARD, task_id, task_case, self.vip_channel, vip_task_card(view))

    async def sync_case_cards(self, *, case_id: int) -> None:
        async with self.db.sessions() as session:
            cards = (
                await session.scalars(
                    select(SlackMessage).where(
                        SlackMessage.case_id == case_id,
                        SlackMessage.card_kind.in_([APPROVAL_CARD, VIP_CARD]),
                    )
                )
            ).all()
        for card in cards:
            if card.card_kind == APPROVAL_CARD:
                await self.sync_approval_card(draft_id=card.subject_id)
            else:
                await self.sync_vip_task_card(task_id=card.subject_id)

    async def escalate(self, *, case_id: int, note: str) -> None:
        async with self.db.sessions() as session:
            card = await session.scalar(
                select(SlackMessage)
                .where(SlackMessage.case_id == case_id, SlackMessage.card_kind == APPROVAL_CARD)
                .order_by(SlackMessage.id.desc())
                .limit(1)
            )
            view = await approval_view(session, card.subject_id) if card else None
        if view is None:
            return
        message = escalation_message(view, reason=note)
        await self._post(self.approvals_channel, message, thread_ts=card.ts if card else None)

    async def remind_vip_task(self, *, task_id: int) -> None:
        async with self.db.sessions() as session:
            view = await vip_view(
                session,
                task_id,
                livemode=self.livemode,
                stripe_dashboard=self.stripe_dashboard,
            )
            card = await _message_of(session, VIP_CARD, task_id)
        if view is None:
            return
        message = vip_reminder_message(view, self.account_managers)
        await self._post(self.vip_channel, message, thread_ts=card.ts if card else None)

    async def post_ephemeral(self, *, channel: str, user: str, text: str) -> None:
        """Tell one person something only they see (refusals, outcomes)."""
        await self._call(self.client.chat_postEphemeral(channel=channel, user=user, text=text))

    async def _show(
        self, kind: str, subject_id: int, case_id: int | None, channel: str, message: Message
    ) -> None:
        async with self.db.sessions() as session:
            existing = await _message_of(session, kind, subject_id)
        if existing is not None and existing.ts:
            await self._call(
                self.client.chat_update(
                    channel=existing.channel,
                    ts=existing.ts,
                    text=message.text,
                    blocks=message.blocks,
                )
            )
            return
        thread_ts = await self._burst_thread(channel, case_id)
        response = await self._post(channel, message, thread_ts=thread_ts)
        async with self.db.transaction() as session:
            session.add(
                SlackMessage(
                    card_kind=kind,
                    subject_id=subject_id,
                    case_id=case_id,
                    channel=response["channel"],
                    ts=response["ts"],
                    thread_ts=thread_ts,
                )
            )
        if thread_ts is not None:
            await self._refresh_digest(channel)

    async def _post(self, channel: str, message: Message, *, thread_ts: str | None) -> dict:
        await self.pacer.wait_turn(channel)
        response = await self._call(
            self.client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
            )
        )
        return {"channel": response.get("channel") or channel, "ts": response["ts"]}

    async def _call(self, pending: Awaitable[T]) -> T:
        try:
            return await pending
        except SlackApiError as error:
            retry_after = _retry_after(error)
            if retry_after is not None:
                raise RetryLater(retry_after, "Slack rate limit (429)") from None
            raise

    def _digest_kind(self, channel: str) -> str:
        return f"digest:{channel}"[:30]

    async def _burst_thread(self, channel: str, case_id: int | None) -> str | None:
        """The digest thread to post into when this channel is in a burst, else None."""
        since = utcnow() - timedelta(seconds=BURST_WINDOW_S)
        async with self.db.sessions() as session:
            recent = await session.scalar(
                select(func.count(SlackMessage.id)).where(
                    SlackMessage.channel == channel,
                    SlackMessage.created_at >= since,
                    SlackMessage.card_kind.in_([APPROVAL_CARD, VIP_CARD]),
                )
            )
            digest = await _message_of(
                session, self._digest_kind(channel), int(time.time() // DIGEST_WINDOW_S)
            )
        if digest is not None and digest.ts:
            return digest.ts
        if (recent or 0) < BURST_THRESHOLD:
            return None
        response = await self._post(channel, digest_message(DigestView(items=[])), thread_ts=None)
        async with self.db.transaction() as session:
            session.add(
                SlackMessage(
                    card_kind=self._digest_kind(channel),
                    subject_id=int(time.time() // DIGEST_WINDOW_S),
                    channel=response["channel"],
                    ts=response["ts"],
                )
            )
        return response["ts"]

    async def _refresh_digest(self, channel: str) -> None:
        async with self.db.sessions() as session:
            digest = await _message_of(
                session, self._digest_kind(channel), int(time.time() // DIGEST_WINDOW_S)
            )
            if digest is None or not digest.ts:
                return
            rows = (
                await session.execute(
                    select(SlackMessage, Case)
                    .join(Case, Case.id == SlackMessage.case_id)
                    .where(SlackMessage.thread_ts == digest.ts)
                    .order_by(SlackMessage.id)
                )
            ).all()
        items = [
            DigestItem(
                invoice_id=case.invoice_id,
                invoice_number=case.invoice_number,
                customer_name=case.customer_name,
                customer_email=case.customer_email,
                amount_text=amount_text(case),
                vip=case.segment == "vip",
            )
            for _message, case in rows
        ]
        message = digest_message(DigestView(items=items, window_text="the last few minutes"))
        await self._call(
            self.client.chat_update(
                channel=digest.channel, ts=digest.ts, text=message.text, blocks=message.blocks
            )
        )


async def _message_of(session: AsyncSession, kind: str, subject_id: int) -> SlackMessage | None:
    return await session.scalar(
        select(SlackMessage).where(
            SlackMessage.card_kind == kind, SlackMessage.subject_id == subject_id
        )
    )


async def _case_id_of_task(session: AsyncSession, task_id: int) -> int | None:
    from storage.models import VipTask

    task = await session.get(VipTask, task_id)
    return task.case_id if task else None
