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
from datetime import datetime
from functools import partial
from typing import TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.slack import digests
from bot.slack.batch_cards import batch_view
from bot.slack.blocks.approval import approval_card
from bot.slack.blocks.batch import batch_message
from bot.slack.blocks.digest import digest_message
from bot.slack.blocks.escalation import escalation_message
from bot.slack.blocks.kit import Message
from bot.slack.blocks.vip import vip_reminder_message, vip_task_card
from bot.slack.cards import amount_text, approval_view, sms_preview, vip_view
from bot.slack.metadata import CardKind
from bot.slack.pacing import MIN_POST_INTERVAL_S, Pacer
from bot.slack.plan_line import case_plan_line
from bot.slack.views import ApprovalStatus, DigestItem, DigestView
from recovery.batches import BatchPolicy, batch_of_draft, in_burst, join_batch
from recovery.notify import NotifyCall, enqueue_notify
from recovery.plans.model import DunningPlan
from storage.db import Database
from storage.models import Case, Draft, ReviewBatchDraft, SlackMessage, VipTask, utcnow
from storage.queue import RetryLater

log = logging.getLogger("dunbot.slack")

APPROVAL_CARD = CardKind.DRAFT.message_kind
VIP_CARD = CardKind.VIP_TASK.message_kind
BATCH_MESSAGE = CardKind.BATCH.message_kind
BATCH_REFRESH_S = 2.0
UPDATE_PACE_PREFIX = "update:"
"""Updates of a channel's messages have their own pace, apart from its new posts."""
"""A batch message is updated at most this often: its changes are coalesced per interval."""
_NEEDS_A_PERSON = (ApprovalStatus.FAILED, ApprovalStatus.UNKNOWN)

T = TypeVar("T")


class ChannelPacer:
    """About one new message per second per channel (Slack's posting limit), in-process
    (`bot.slack.pacing.SharedChannelPacer` keeps it across worker processes).

    A post whose turn is more than one interval away does not wait in its worker slot: it gets
    the next free slot, reserved under its key, and its job is rescheduled to that time
    (RetryLater); when it comes back it posts in the slot it was given.
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
        self._reserved: dict[str, float] = {}

    async def wait_turn(self, channel: str, *, key: str | None = None) -> None:
        now = self._clock()
        slot = self._reserved.pop(key, None) if key is not None else None
        if slot is None:
            slot = max(now, self._next_slot.get(channel, 0.0))
            self._next_slot[channel] = slot + self.interval_s
        delay = slot - now
        if key is not None and delay > self.interval_s:
            self._forget_missed(now)
            self._reserved[key] = slot
            raise RetryLater(delay, f"pacing posts to {channel}")
        if key is None and delay > 5 * self.interval_s:
            raise RetryLater(delay, f"pacing posts to {channel}")
        if delay > 0:
            await self._sleep(delay)

    def _forget_missed(self, now: float) -> None:
        """Drop reservations of jobs that never came back (cancelled, taken by another process)."""
        if len(self._reserved) > 1000:
            horizon = now - 60 * self.interval_s
            self._reserved = {k: v for k, v in self._reserved.items() if v >= horizon}


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
        pacer: Pacer | None = None,
        sms_choice: bool = False,
        sms_company: str | None = None,
        batch_policy: BatchPolicy | None = None,
        batch_refresh_s: float = BATCH_REFRESH_S,
        plans: Callable[[str], DunningPlan | None] | None = None,
    ) -> None:
        self.db = db
        self.plans = plans  # the rules file's plans by name: a case card shows its plan
        self.client = client
        self.approvals_channel = approvals_channel
        self.vip_channel = vip_channel
        self.account_managers = list(account_managers)
        self.livemode = livemode
        self.stripe_dashboard = stripe_dashboard
        self.pacer: Pacer = pacer or ChannelPacer()
        self.sms_choice = sms_choice  # email and SMS both on: the card offers either alone
        self.sms_company = sms_company  # SMS on: the card previews it, signed with this name
        # Bursts reviewed in batch messages (recovery.batches); off unless configured.
        self.batch_policy = batch_policy or BatchPolicy(threshold=0)
        self.batch_refresh_s = batch_refresh_s

    async def sync_approval_card(self, *, draft_id: int) -> None:
        async with self.db.sessions() as session:
            view = await approval_view(session, draft_id)
            preview = (
                await sms_preview(session, case_id=view.case_id, company_name=self.sms_company)
                if view is not None and self.sms_company is not None
                else None
            )
            card = await _message_of(session, APPROVAL_CARD, draft_id)
            batch_id = await batch_of_draft(session, draft_id) if card is None else None
            burst = (
                card is None
                and batch_id is None
                and view is not None
                and view.status is ApprovalStatus.PENDING
                and await in_burst(session, self.batch_policy, now=utcnow())
            )
            plan_line = await self._plan_line(session, view.case_id) if view else None
        if view is None:
            return
        thread_ts = None
        if batch_id is not None or burst:
            shown_in = await self._show_in_batch(draft_id, batch_id)
            if shown_in is not None and view.status not in _NEEDS_A_PERSON:
                return
            if shown_in is not None:  # its email needs a person: its own card, in the thread
                thread_ts = await self._batch_ts(shown_in)
        view = replace(view, sms_choice=self.sms_choice, sms_preview=preview, plan_line=plan_line)
        await self._show(
            APPROVAL_CARD,
            draft_id,
            view.case_id,
            self.approvals_channel,
            approval_card(view),
            thread_ts=thread_ts,
        )

    async def sync_batch(self, *, batch_id: int) -> None:
        """Post the batch's message (paced like a card), or update it in place."""
        async with self.db.sessions() as session:
            view = await batch_view(session, batch_id)
            existing = await _message_of(session, BATCH_MESSAGE, batch_id)
        if view is None or not view.lines:
            return
        message = batch_message(view)
        if existing is not None and existing.ts:
            # Paced like posts (about one update per second per channel), its own turn kept.
            await self._update(
                existing.channel, existing.ts, message, key=f"{BATCH_MESSAGE}_update:{batch_id}"
            )
            return
        response = await self._post(
            self.approvals_channel, message, thread_ts=None, pace_key=f"{BATCH_MESSAGE}:{batch_id}"
        )
        async with self.db.transaction() as session:
            session.add(
                SlackMessage(
                    card_kind=BATCH_MESSAGE,
                    subject_id=batch_id,
                    case_id=None,
                    channel=response["channel"],
                    ts=response["ts"],
                )
            )

    async def _show_in_batch(self, draft_id: int, batch_id: int | None) -> int | None:
        """List the draft in its group's batch (when not yet listed) and queue the batch
        message's coalesced update; the batch id, or None when the draft cannot be batched."""
        async with self.db.transaction() as session:
            if batch_id is None:
                batch_id = await join_batch(session, draft_id=draft_id, policy=self.batch_policy)
            if batch_id is not None:
                await self.queue_batch_refresh(session, batch_id)
        return batch_id

    async def queue_batch_refresh(self, session: AsyncSession, batch_id: int) -> None:
        """Update the batch's message soon: one update per batch per BATCH_REFRESH_S."""
        if self.batch_refresh_s <= 0:
            await enqueue_notify(session, NotifyCall.SYNC_BATCH, batch_id=batch_id)
            return
        now = time.time()
        slot = int(now // self.batch_refresh_s)
        await enqueue_notify(
            session,
            NotifyCall.SYNC_BATCH,
            batch_id=batch_id,
            dedupe_key=f"batch_refresh:{batch_id}:{slot}",
            delay_s=max((slot + 1) * self.batch_refresh_s - now, 0.0),
        )

    async def _batch_ts(self, batch_id: int) -> str | None:
        async with self.db.sessions() as session:
            message = await _message_of(session, BATCH_MESSAGE, batch_id)
        return message.ts if message is not None else None

    async def sync_vip_task_card(self, *, task_id: int) -> None:
        async with self.db.sessions() as session:
            view = await vip_view(
                session,
                task_id,
                livemode=self.livemode,
                stripe_dashboard=self.stripe_dashboard,
            )
            task_case = await _case_id_of_task(session, task_id)
            if view is not None and task_case is not None:
                view = replace(view, plan_line=await self._plan_line(session, task_case))
        if view is not None:
            await self._show(VIP_CARD, task_id, task_case, self.vip_channel, vip_task_card(view))

    async def _plan_line(self, session: AsyncSession, case_id: int) -> str | None:
        """The case's place in its dunning plan, when it follows one that retries."""
        if self.plans is None:
            return None
        return await case_plan_line(session, case_id=case_id, plans=self.plans)

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
            batches = set(
                await session.scalars(
                    select(ReviewBatchDraft.batch_id).where(ReviewBatchDraft.case_id == case_id)
                )
            )
        if batches:  # the case's drafts listed in batches: their messages show it settled
            async with self.db.transaction() as session:
                for batch_id in sorted(batches):
                    await self.queue_batch_refresh(session, batch_id)
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
        self,
        kind: str,
        subject_id: int,
        case_id: int | None,
        channel: str,
        message: Message,
        *,
        thread_ts: str | None = None,
    ) -> None:
        async with self.db.sessions() as session:
            existing = await _message_of(session, kind, subject_id)
        if existing is not None and existing.ts:
            await self._update(existing.channel, existing.ts, message)
            return
        in_digest = thread_ts is None
        if in_digest:
            thread_ts = await self._burst_thread(channel, case_id)
        response = await self._post(
            channel, message, thread_ts=thread_ts, pace_key=f"{kind}:{subject_id}"
        )
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
            if in_digest and thread_ts is not None:
                await self._queue_digest_refresh(session, channel, thread_ts)

    async def _post(
        self, channel: str, message: Message, *, thread_ts: str | None, pace_key: str | None = None
    ) -> dict:
        await self.pacer.wait_turn(channel, key=pace_key)
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

    async def _update(
        self, channel: str, ts: str, message: Message, *, key: str | None = None
    ) -> None:
        """chat.update, paced per channel like posts (Slack limits updates per channel too)."""
        await self.pacer.wait_turn(f"{UPDATE_PACE_PREFIX}{channel}", key=key)
        await self._call(
            self.client.chat_update(
                channel=channel, ts=ts, text=message.text, blocks=message.blocks
            )
        )

    async def _call(self, pending: Awaitable[T]) -> T:
        try:
            return await pending
        except SlackApiError as error:
            retry_after = _retry_after(error)
            if retry_after is not None:
                raise RetryLater(retry_after, "Slack rate limit (429)") from None
            raise

    async def _burst_thread(self, channel: str, case_id: int | None) -> str | None:
        """The digest thread to post into when this channel is in a burst, else None."""
        thread = await digests.current_thread(
            self.db, channel=channel, recent_count=partial(self._recent_subjects, channel)
        )
        if not isinstance(thread, digests.DigestClaim):
            return thread
        async with self.db.sessions() as session:
            case = await session.get(Case, case_id) if case_id is not None else None
        first = [_digest_item(case)] if case is not None else []
        view = DigestView(items=first, window_text="the last few minutes")
        response = await self._post(channel, digest_message(view), thread_ts=None)
        await digests.record_posted(
            self.db, claim=thread, channel=response["channel"], ts=response["ts"]
        )
        return response["ts"]

    async def _recent_subjects(self, channel: str, session: AsyncSession, since: datetime) -> int:
        """Drafts (approvals channel) and VIP tasks (VIP channel) created since a time."""
        count = 0
        if channel == self.approvals_channel:
            count += (
                await session.scalar(select(func.count(Draft.id)).where(Draft.created_at >= since))
                or 0
            )
        if channel == self.vip_channel:
            count += (
                await session.scalar(
                    select(func.count(VipTask.id)).where(VipTask.created_at >= since)
                )
                or 0
            )
        return count

    async def _queue_digest_refresh(
        self, session: AsyncSession, channel: str, thread_ts: str
    ) -> None:
        """Re-render the digest as a job of its own: refreshes of one digest run one at a
        time, each reading the thread when it runs, so an older count never lands last."""
        digest_id = await session.scalar(
            select(SlackMessage.id).where(
                SlackMessage.card_kind == digests.digest_kind(channel),
                SlackMessage.ts == thread_ts,
            )
        )
        if digest_id is not None:
            await enqueue_notify(session, NotifyCall.SYNC_DIGEST, digest_id=digest_id)

    async def sync_digest(self, *, digest_id: int) -> None:
        """Re-render a burst digest from the cards now in its thread."""
        async with self.db.sessions() as session:
            digest = await session.get(SlackMessage, digest_id)
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
        items = [_digest_item(case) for _message, case in rows]
        message = digest_message(DigestView(items=items, window_text="the last few minutes"))
        await digests.mark_active(self.db, digest_id=digest.id)
        await self._update(digest.channel, digest.ts, message)


def _digest_item(case: Case) -> DigestItem:
    return DigestItem(
        invoice_id=case.invoice_id,
        invoice_number=case.invoice_number,
        customer_name=case.customer_name,
        customer_email=case.customer_email,
        amount_text=amount_text(case),
        vip=case.segment == "vip",
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
