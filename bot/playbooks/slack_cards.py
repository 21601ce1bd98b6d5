"""Playbooks in Slack: rule messages, approval cards (Approve or **Refund** / Reject) and
failure reports. Block builders are pure; `PlaybookSlack` posts and updates them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.playbooks.card_buttons import CardButtons
from bot.slack.mrkdwn import escape_inline
from recovery.playbooks.ports import OverdueAlert
from storage.db import Database
from storage.models import PlaybookAction, PlaybookActionStatus, PlaybookFiring, SlackMessage
from storage.queue import RetryLater

CARD_KIND = "playbook_action"
APPROVE_ACTION_ID = "playbook_approve"
REJECT_ACTION_ID = "playbook_reject"
BUTTONS = CardButtons("playbook_action:")
VALUE_PREFIX = BUTTONS.prefix
Status = PlaybookActionStatus
button_value = BUTTONS.value
parse_button_value = BUTTONS.parse  # the playbook action a button names, None when none


@dataclass(frozen=True, slots=True)
class Message:
    text: str
    blocks: list[dict[str, Any]]


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:2000]}]}


def rule_message(*, text: str, footer: str) -> Message:
    """A rule's message: its (already escaped) text and which rule sent it."""
    return Message(text=text[:3000], blocks=[_section(text), _context(escape_inline(footer))])


def _approve_label(action: PlaybookAction) -> str:
    return "Refund" if action.type == "refund_charge" else "Approve"


def _status_line(action: PlaybookAction) -> str:
    by = f"<@{action.decided_by}>" if action.decided_by else "someone"
    result = escape_inline(action.result or "")
    match action.status:
        case Status.AWAITING_APPROVAL:
            return "Waiting for a finance approver."
        case Status.APPROVED | Status.RUNNING:
            return f"Approved by {by}; in progress."
        case Status.DONE:
            return f"Done — approved by {by}: {result}"
        case Status.REJECTED:
            return f"Rejected by {by}; nothing done."
        case Status.CANCELLED:
            return f"Cancelled: {result}"
        case _:
            return f"{escape_inline(str(action.status)).capitalize()}: {result}"


def approval_card(action: PlaybookAction, firing: PlaybookFiring) -> Message:
    """The card of an action waiting for (or past) a finance decision."""
    what = escape_inline(str(action.params.get("describe", action.type)))
    rule = escape_inline(firing.rule_name)
    head = f"*Playbook “{rule}”* wants to {what}"
    facts = (
        f"Customer {escape_inline(firing.customer_id or '—')} · event "
        f"{escape_inline(firing.event_type)} {escape_inline(firing.event_id)} · "
        f"rule v{escape_inline(firing.rule_version)}"
    )
    blocks = [_section(head), _context(facts), _section(_status_line(action))]
    if action.status == Status.AWAITING_APPROVAL:
        label = _approve_label(action)
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": APPROVE_ACTION_ID,
                        "text": {"type": "plain_text", "text": label},
                        "style": "primary",
                        "value": button_value(action.id),
                        "confirm": {
                            "title": {"type": "plain_text", "text": f"{label}?"},
                            "text": {"type": "mrkdwn", "text": what[:300]},
                            "confirm": {"type": "plain_text", "text": label},
                            "deny": {"type": "plain_text", "text": "Cancel"},
                        },
                    },
                    {
                        "type": "button",
                        "action_id": REJECT_ACTION_ID,
                        "text": {"type": "plain_text", "text": "Reject"},
                        "style": "danger",
                        "value": button_value(action.id),
                    },
                ],
            }
        )
    text = f"Playbook “{firing.rule_name}” wants to {action.params.get('describe', action.type)}"
    return Message(text=escape_inline(text)[:3000], blocks=blocks)


def failure_message(action: PlaybookAction, firing: PlaybookFiring, error: str) -> Message:
    what = escape_inline(str(action.params.get("describe", action.type)))
    text = (
        f":warning: Playbook “{escape_inline(firing.rule_name)}” could not {what}: "
        f"{escape_inline(error)}. Nothing more is tried for this event; please check."
    )
    return Message(text=text, blocks=[_section(text), _context(f"event {firing.event_id}")])


class PlaybookSlack:
    """`recovery.playbooks.ports.PlaybookNotifier` on Slack's Web API."""

    def __init__(self, *, db: Database, client: AsyncWebClient, alerts_channel: str | None) -> None:
        self.db = db
        self.client = client
        self.alerts_channel = alerts_channel

    async def post_message(self, *, channel: str, text: str, footer: str) -> None:
        message = rule_message(text=text, footer=footer)
        await slack_call(
            self.client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
        )

    async def sync_action_card(self, *, action_id: int) -> None:
        async with self.db.sessions() as session:
            action = await session.get(PlaybookAction, action_id)
            firing = await session.get(PlaybookFiring, action.firing_id) if action else None
            existing = await _card_of(session, action_id)
        if action is None or firing is None:
            return
        message = approval_card(action, firing)
        if existing is not None and existing.ts:
            await update_card(
                self.client, channel=existing.channel, ts=existing.ts, message=message
            )
            return
        if not self.alerts_channel:
            raise RuntimeError("no alerts channel (SLACK_ALERTS_CHANNEL / SLACK_APPROVALS_CHANNEL)")
        posted_channel, ts = await post_card(
            self.client, channel=self.alerts_channel, message=message
        )
        async with self.db.transaction() as session:
            session.add(
                SlackMessage(
                    card_kind=CARD_KIND, subject_id=action_id, channel=posted_channel, ts=ts
                )
            )

    async def post_overdue_alert(self, *, channel: str, alert: OverdueAlert) -> None:
        """Post the alert once per action (a retried job finds the stored message)."""
        from bot.playbooks.overdue_cards import OVERDUE_CARD_KIND, alert_detail, overdue_card

        async with self.db.sessions() as session:
            existing = await _card_of(session, alert.action_id, kind=OVERDUE_CARD_KIND)
        if existing is not None:
            return
        message = overdue_card(alert)
        posted_channel, ts = await post_card(self.client, channel=channel, message=message)
        async with self.db.transaction() as session:
            session.add(
                SlackMessage(
                    card_kind=OVERDUE_CARD_KIND,
                    subject_id=alert.action_id,
                    channel=posted_channel,
                    ts=ts,
                )
            )
            action = await session.get(PlaybookAction, alert.action_id)
            if action is not None:
                action.detail = {**(action.detail or {}), "alert": alert_detail(alert)}

    async def sync_overdue_card(self, *, action_id: int) -> None:
        """Redraw the alert: claimed → who claimed it, no button."""
        from bot.playbooks.overdue_cards import (
            OVERDUE_CARD_KIND,
            alert_from_detail,
            overdue_card,
        )

        async with self.db.sessions() as session:
            action = await session.get(PlaybookAction, action_id)
            existing = await _card_of(session, action_id, kind=OVERDUE_CARD_KIND)
        if action is None or existing is None or not existing.ts:
            return
        detail = dict(action.detail or {})
        if "alert" not in detail:
            return
        message = overdue_card(
            alert_from_detail(action_id, detail["alert"]), claimed_by=detail.get("claimed_by")
        )
        await slack_call(
            self.client.chat_update(
                channel=existing.channel, ts=existing.ts, text=message.text, blocks=message.blocks
            )
        )

    async def post_overdue_digest(self, *, channel: str, lines: list[dict[str, Any]]) -> None:
        from bot.playbooks.overdue_cards import overdue_digest

        message = overdue_digest(lines)
        await slack_call(
            self.client.chat_postMessage(
                channel=channel, text=message.text, blocks=message.blocks, unfurl_links=False
            )
        )

    async def report_failure(self, *, action_id: int, error: str) -> None:
        async with self.db.sessions() as session:
            action = await session.get(PlaybookAction, action_id)
            firing = await session.get(PlaybookFiring, action.firing_id) if action else None
        if action is None or firing is None or not self.alerts_channel:
            return
        message = failure_message(action, firing, error)
        await slack_call(
            self.client.chat_postMessage(
                channel=self.alerts_channel, text=message.text, blocks=message.blocks
            )
        )


async def slack_call(pending: Any) -> Any:
    """A Web API call; Slack's 429 becomes a RetryLater of the job after Retry-After."""
    try:
        return await pending
    except SlackApiError as error:
        if error.response is not None and error.response.status_code == 429:
            retry_after = float(error.response.headers.get("Retry-After", 1) or 1)
            raise RetryLater(retry_after, "Slack rate limit (429)") from None
        raise


async def post_card(client: AsyncWebClient, *, channel: str, message: Message) -> tuple[str, str]:
    """Post a card (no unfurls); its (channel, ts) for the SlackMessage row."""
    response = await slack_call(
        client.chat_postMessage(
            channel=channel,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
            unfurl_media=False,
        )
    )
    return response.get("channel") or channel, response["ts"]


async def update_card(client: AsyncWebClient, *, channel: str, ts: str, message: Message) -> None:
    """Re-render a posted card in place."""
    await slack_call(
        client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)
    )


async def _card_of(session: Any, action_id: int, *, kind: str = CARD_KIND) -> SlackMessage | None:
    from sqlalchemy import select

    return await session.scalar(
        select(SlackMessage).where(
            SlackMessage.card_kind == kind, SlackMessage.subject_id == action_id
        )
    )
