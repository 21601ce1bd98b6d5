"""Bolt middleware: typed context first, then roles, so listeners only decide.

`verified_request` runs after Bolt's signature check on every request. Per listener,
`require(role)` refuses people outside a role (RoleError), `card_click(kind)` parses the
button's CardRef and checks it is the card stored for the clicked message (a button of
card A carrying card B's value is refused), and `card_submission(kind)` parses a modal's
private metadata. Each puts a typed object in the context (`click`, `submission`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt.response import BoltResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.slack.deps import Role, SlackDeps
from bot.slack.errors import VERIFIED, CardError, MalformedRequest, RoleError, dig, user_of
from bot.slack.ids import ModalField
from bot.slack.metadata import CardKind, CardRef, MessageRef, MetadataError, ModalMetadata
from storage.db import Database
from storage.models import SlackMessage

log = logging.getLogger("dunbot.slack")

MALFORMED = "dunbot_malformed"
"""Context key of a request whose body could not be read (set by the HTTP route)."""
CLICK = "click"
SUBMISSION = "submission"

NOT_OUR_CARD = "This button is not one of dunbot's current cards; nothing changed."
FOREIGN_CARD = "This button does not belong to the card it was clicked on; nothing changed."
OLD_FORM = "This form is out of date; close it."

Middleware = Callable[..., Awaitable[BoltResponse | None]]


@dataclass(frozen=True, kw_only=True)
class Form:
    """The values of a submitted modal, read by field."""

    values: Mapping[str, Any]

    def text(self, field: ModalField) -> str:
        """The stripped text of a plain_text_input ('' when empty or missing)."""
        block = self.values.get(field.block_id)
        entry = block.get(field.action_id) if isinstance(block, dict) else None
        value = entry.get("value") if isinstance(entry, dict) else None
        return value.strip() if isinstance(value, str) else ""


@dataclass(frozen=True, kw_only=True)
class Click:
    """A button click on one of our cards: who, which card (and version), where."""

    user: str
    card: CardRef
    message: MessageRef
    trigger_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class Submission:
    """A submitted modal opened from one of our cards."""

    user: str
    card: CardRef
    message: MessageRef | None
    form: Form

    @property
    def channel(self) -> str | None:
        """The channel of the card the modal was opened from (for ephemeral answers)."""
        return self.message.channel if self.message else None


def _user(body: Any) -> str:
    user = user_of(body)
    if user is None:
        raise MalformedRequest(None)
    return user


def clicked_message(body: dict[str, Any]) -> MessageRef | None:
    """The channel and ts of the message a button was clicked on, if the body says."""
    channel = dig(body, "channel", "id") or dig(body, "container", "channel_id")
    ts = dig(body, "message", "ts") or dig(body, "container", "message_ts")
    try:
        return MessageRef(channel=channel, ts=ts)
    except ValueError:  # pydantic's ValidationError: missing or malformed
        return None


async def verified_request(context: dict[str, Any], next: Callable[[], Awaitable[Any]]) -> Any:  # noqa: A002 - Bolt injects `next` by name
    """Global, after Bolt's signature check: mark the request verified; answer an unreadable
    one 200 with nothing else to do (there is no user to tell)."""
    context[VERIFIED] = True
    if context.get(MALFORMED):
        log.warning("signed slack request with an unreadable body")
        return BoltResponse(status=200, body="")
    return await next()


def require(role: Role, deps: SlackDeps) -> Middleware:
    """Refuse anyone outside `role` with an ephemeral RoleError."""

    async def middleware(body: dict[str, Any], next: Callable[[], Awaitable[Any]]) -> Any:  # noqa: A002
        if _user(body) not in deps.members(role):
            raise RoleError(role.refusal)
        return await next()

    return middleware


def card_click(kind: CardKind, db: Database) -> Middleware:
    """Parse the clicked button's CardRef into `context["click"]`; refuse a value that is no
    card of `kind`, or another card than the one stored for the clicked message."""

    async def middleware(
        body: dict[str, Any],
        context: dict[str, Any],
        next: Callable[[], Awaitable[Any]],  # noqa: A002
    ) -> Any:
        user = _user(body)
        actions = body.get("actions")
        action = actions[0] if isinstance(actions, list) and actions else None
        if not isinstance(action, dict):
            raise MalformedRequest(None)
        try:
            card = CardRef.parse(action.get("value")).expect(kind)
        except MetadataError as error:
            log.warning("bad button value", extra={"error": str(error)})
            raise CardError(NOT_OUR_CARD) from None
        message = clicked_message(body)
        if message is None or not await _shows(db, message, card):
            log.warning("button value of another card", extra={"card_kind": card.kind.value})
            raise CardError(FOREIGN_CARD)
        trigger = body.get("trigger_id")
        context[CLICK] = Click(
            user=user,
            card=card,
            message=message,
            trigger_id=trigger if isinstance(trigger, str) else None,
        )
        return await next()

    return middleware


async def _shows(db: Database, message: MessageRef, card: CardRef) -> bool:
    """Whether `message` is where dunbot posted `card`."""
    async with db.sessions() as session:
        return await posted_at(
            session, message, card_kind=card.kind.message_kind, subject_id=card.id
        )


async def posted_at(
    session: AsyncSession, message: MessageRef | None, *, card_kind: str, subject_id: int
) -> bool:
    """Whether `message` is the stored card of this kind and subject (a button's value may name
    another card than the one it was clicked on: such a click is refused)."""
    stored = await session.scalar(
        select(SlackMessage).where(
            SlackMessage.card_kind == card_kind, SlackMessage.subject_id == subject_id
        )
    )
    return (
        message is not None
        and stored is not None
        and (stored.channel, stored.ts) == (message.channel, message.ts)
    )


def card_submission(kind: CardKind) -> Middleware:
    """Parse a modal's private metadata and values into `context["submission"]`."""

    async def middleware(
        body: dict[str, Any],
        context: dict[str, Any],
        next: Callable[[], Awaitable[Any]],  # noqa: A002
    ) -> Any:
        user = _user(body)
        view = body.get("view")
        if not isinstance(view, dict):
            raise MalformedRequest(None)
        try:
            meta = ModalMetadata.parse(view.get("private_metadata"))
            meta.card.expect(kind)
        except MetadataError as error:
            log.warning("bad modal metadata", extra={"error": str(error)})
            raise CardError(OLD_FORM) from None
        values = dig(view, "state", "values")
        context[SUBMISSION] = Submission(
            user=user,
            card=meta.card,
            message=meta.message,
            form=Form(values=values if isinstance(values, dict) else {}),
        )
        return await next()

    return middleware
