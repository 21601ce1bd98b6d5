"""What a Slack request can go wrong with, and the one handler that answers every error.

Known refusals (`SlackRequestError`) become a short message to the person; anything else is
logged with a short reference id, and the person gets that id. Every verified request is
answered 200, as Slack expects; a request whose signature was never verified gets 401.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.response import BoltResponse

from bot.slack.jobs import enqueue_ephemeral
from bot.slack.metadata import MetadataError, ModalMetadata
from storage.db import Database

log = logging.getLogger("dunbot.slack")

VERIFIED = "dunbot_verified"
"""Context key set once Bolt has verified the request's signature (or Socket Mode carried it)."""


class SlackRequestError(Exception):
    """A request dunbot refuses; `message` is safe Slack mrkdwn for the person (or None)."""

    show_in_form = False
    """Shown on the modal's first input (the modal stays open) instead of ephemerally."""

    def __init__(self, message: str | None) -> None:
        super().__init__(message or type(self).__name__)
        self.message = message


class RoleError(SlackRequestError):
    """The person lacks the role this action needs."""


class CardError(SlackRequestError):
    """The button or form names no current card of ours, or another card than its message."""

    show_in_form = True


class MalformedRequest(SlackRequestError):
    """Signed, but not a request dunbot can read (no user, wrong shapes)."""


def dig(body: Any, *path: str) -> Any:
    """`body[path[0]][path[1]]…`, or None as soon as a step is not a dict or key."""
    for key in path:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,40}$")


def user_of(body: Any) -> str | None:
    """The Slack user id of who clicked, submitted or typed the command; None when the body
    names nobody in the expected place (Bolt's own guess may be a message's author)."""
    user = dig(body, "user", "id") if isinstance(dig(body, "user"), dict) else None
    if user is None and dig(body, "command") is not None:
        user = dig(body, "user_id")
    return user if isinstance(user, str) and _USER_ID.match(user) else None


def _reply_channel(body: Any) -> str | None:
    """The channel an ephemeral answer goes to: the clicked message's, or the modal's card's."""
    channel = dig(body, "channel", "id") or dig(body, "container", "channel_id")
    if channel is None and isinstance(dig(body, "view"), dict):  # a modal's form or button
        try:
            meta = ModalMetadata.parse(dig(body, "view", "private_metadata"))
        except MetadataError:
            return None
        channel = meta.message.channel if meta.message else None
    return channel if isinstance(channel, str) else None


def _first_input(body: Any) -> str | None:
    for block in dig(body, "view", "blocks") or []:
        if isinstance(block, dict) and block.get("type") == "input":
            block_id = block.get("block_id")
            return block_id if isinstance(block_id, str) else None
    return None


def error_handler(db: Database) -> Callable[..., Awaitable[BoltResponse]]:
    """Bolt's error handler: answer the person, log the rest, never a 500 after verification."""

    async def reply(body: Any, user: str | None, text: str) -> BoltResponse:
        if dig(body, "command") is not None:  # slash command: the answer is the ack itself
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
        channel = _reply_channel(body)
        if user is not None and channel:
            try:
                async with db.transaction() as session:
                    await enqueue_ephemeral(session, channel=channel, user=user, text=text)
            except Exception:  # the database is what failed: the log line is all we can do
                log.exception("could not queue the error reply")
        return BoltResponse(status=200, body="")

    async def handle(error: Exception, body: Any, context: dict[str, Any]) -> BoltResponse:
        if not context.get(VERIFIED):
            log.warning("slack request failed before its signature was verified: %s", error)
            return BoltResponse(status=401, body="")
        user = user_of(body)
        if isinstance(error, BoltUnhandledRequestError):
            log.info("slack request with no listener", extra={"type": dig(body, "type")})
            return BoltResponse(status=200, body="")
        if isinstance(error, SlackRequestError):
            log.info("slack request refused: %s", type(error).__name__)
            if error.message is None:
                return BoltResponse(status=200, body="")
            field = _first_input(body) if error.show_in_form else None
            if field is not None and dig(body, "type") == "view_submission":
                errors = {field: error.message[:150]}
                return BoltResponse(
                    status=200, body={"response_action": "errors", "errors": errors}
                )
            return await reply(body, user, error.message)
        reference = uuid.uuid4().hex[:8]
        log.exception("slack listener failed", extra={"correlation_id": reference}, exc_info=error)
        return await reply(
            body,
            user,
            f"Something went wrong on dunbot's side (reference `{reference}`). "
            "Look at the card before trying again; the team can find the details by that "
            "reference in dunbot's logs.",
        )

    return handle
