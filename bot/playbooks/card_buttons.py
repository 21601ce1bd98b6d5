"""Buttons of dunbot's decision cards: the value naming a card's subject, and the click listener
(authorise, check the value names the card clicked on, decide, tell the clicker, ack)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck
from sqlalchemy.ext.asyncio import AsyncSession

from bot.slack.jobs import enqueue_ephemeral
from bot.slack.middleware import FOREIGN_CARD, clicked_message, posted_at
from storage.db import Database

log = logging.getLogger("dunbot.slack")

NOT_FINANCE = "Only the finance approvers (FINANCE_APPROVERS) can do this; nothing changed."
NOT_A_CARD = "This button is not one of dunbot's current cards."

Decide = Callable[[AsyncSession, int, str], Awaitable[str]]
"""`(session, subject_id, user)` → what the clicker is told; runs in the click's transaction."""

ClickHandler = Callable[[AsyncAck, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CardButtons:
    """A card kind's button values: `prefix` followed by the id of the card's subject."""

    prefix: str

    def value(self, subject_id: int) -> str:
        """The value of a button of the card of `subject_id`."""
        return f"{self.prefix}{subject_id}"

    def parse(self, value: str | None) -> int | None:
        """The subject a button names, None when it names none."""
        if not value or not value.startswith(self.prefix):
            return None
        rest = value.removeprefix(self.prefix)
        return int(rest) if rest.isdigit() and len(rest) < 19 else None


def approver_click_handler(
    *,
    db: Database,
    allowed: frozenset[str],
    refusal: str = NOT_FINANCE,
    card_kind: str,
    noun: str,
    parse: Callable[[str | None], int | None],
    decide: Decide,
) -> ClickHandler:
    """A listener for one button of `card_kind` cards: only `allowed` users may decide (others
    are told `refusal`); the reply is an ephemeral job queued in the decision's transaction."""

    async def handle(ack: AsyncAck, body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        subject_id = parse((body.get("actions") or [{}])[0].get("value"))
        async with db.transaction() as session:
            if user not in allowed:
                text = refusal
            elif subject_id is None:
                log.warning("bad %s button value", noun)
                text = NOT_A_CARD
            elif not await posted_at(
                session, clicked_message(body), card_kind=card_kind, subject_id=subject_id
            ):
                log.warning("%s button value of another card", noun)
                text = FOREIGN_CARD
            else:
                text = await decide(session, subject_id, user)
            await enqueue_ephemeral(session, channel=channel, user=user, text=text)
        await ack()

    return handle
