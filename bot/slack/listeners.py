"""The shapes of dunbot's Slack listeners; `bot.slack.handlers` lists one row per listener.

Each shape attaches itself to the Bolt app with its middleware (role, typed context) so the
listener body only decides: record the decision, queue the side effects, ack. Errors are
raised, not answered here: `bot.slack.errors.error_handler` answers them all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.slack.cards import card_view
from bot.slack.command_parser import CommandError, parse_command
from bot.slack.commands import NeedsLookup, run_command
from bot.slack.deps import Role, SlackDeps
from bot.slack.errors import CardError
from bot.slack.ids import ModalCallback, ModalField
from bot.slack.jobs import enqueue_command, enqueue_ephemeral, enqueue_home
from bot.slack.metadata import CardKind
from bot.slack.middleware import (
    CLICK,
    SUBMISSION,
    Click,
    Submission,
    card_click,
    card_submission,
    require,
)
from recovery.decisions import Outcome
from storage.models import utcnow

FORM_ERROR_MAX = 150
"""How much of a field error a modal shows comfortably."""
OUT_OF_DATE = "This card is out of date; nothing changed. Look at the updated card."
LOOKING_UP = "Looking that customer up in Stripe; the answer follows in a moment."


def shorten(text: str, limit: int = FORM_ERROR_MAX) -> str:
    """`text` cut at a word boundary to at most `limit` characters, marked with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "…"


ClickDecision = Callable[[AsyncSession, Click, SlackDeps], Awaitable[Outcome]]
FormDecision = Callable[[AsyncSession, Submission, SlackDeps], Awaitable[Outcome]]
ModalBuilder = Callable[..., dict[str, Any]]
"""`build(card_view, *, origin=MessageRef)`: a modal view for views.open."""


@dataclass(frozen=True)
class Decide:
    """A button that decides at once: compare-and-set, ack; a refusal is told ephemerally,
    a success only when `tell_success` (a decision that took effect shows on the card, so a
    reply could only repeat or, once the card moves on, contradict it)."""

    action: str
    role: Role
    kind: CardKind
    decide: ClickDecision
    tell_success: bool = False

    def attach(self, app: AsyncApp, deps: SlackDeps) -> None:
        """Register the listener and its middleware on `app`."""

        async def listener(ack: AsyncAck, context: dict[str, Any]) -> None:
            click: Click = context[CLICK]
            async with deps.db.transaction() as session:
                outcome = await self.decide(session, click, deps)
                if self.tell_success or not outcome.ok:
                    await enqueue_ephemeral(
                        session,
                        channel=click.message.channel,
                        user=click.user,
                        text=outcome.message,
                    )
            await ack()

        middleware = [require(self.role, deps), card_click(self.kind, deps.db)]
        app.action(str(self.action), middleware=middleware)(listener)


@dataclass(frozen=True)
class OpenModal:
    """A button that opens a modal on the card it was clicked on (trigger id valid 3 s)."""

    action: str
    role: Role
    kind: CardKind
    build: ModalBuilder

    def attach(self, app: AsyncApp, deps: SlackDeps) -> None:
        """Register the listener and its middleware on `app`."""

        async def listener(ack: AsyncAck, context: dict[str, Any], client: AsyncWebClient) -> None:
            click: Click = context[CLICK]
            async with deps.db.sessions() as session:
                view = await card_view(
                    session,
                    click.card,
                    livemode=deps.livemode,
                    stripe_dashboard=deps.stripe_dashboard,
                )
            if view is None or view.version != click.card.version:
                raise CardError(OUT_OF_DATE)
            await ack()
            await client.views_open(
                trigger_id=click.trigger_id, view=self.build(view, origin=click.message)
            )

        middleware = [require(self.role, deps), card_click(self.kind, deps.db)]
        app.action(str(self.action), middleware=middleware)(listener)


@dataclass(frozen=True)
class Submit:
    """A modal submission: decide, then close the modal or show the field's errors.

    A refusal is told ephemerally; a success only when `tell_success` (its effect is not on
    this card, e.g. a regenerated draft arrives as a new card)."""

    callback: ModalCallback
    role: Role
    kind: CardKind
    decide: FormDecision
    error_field: ModalField | None = None
    tell_success: bool = False

    def attach(self, app: AsyncApp, deps: SlackDeps) -> None:
        """Register the listener and its middleware on `app`."""

        async def listener(ack: AsyncAck, context: dict[str, Any]) -> None:
            submitted: Submission = context[SUBMISSION]
            async with deps.db.transaction() as session:
                outcome = await self.decide(session, submitted, deps)
                shown_in_form = bool(outcome.errors) and self.error_field is not None
                if (outcome.ok and self.tell_success) or not (outcome.ok or shown_in_form):
                    await enqueue_ephemeral(
                        session,
                        channel=submitted.channel,
                        user=submitted.user,
                        text=outcome.message,
                    )
            if outcome.errors and self.error_field is not None:
                errors = {self.error_field.block_id: shorten("; ".join(outcome.errors))}
                await ack(response_action="errors", errors=errors)
                return
            await ack()

        middleware = [require(self.role, deps), card_submission(self.kind)]
        app.view(str(self.callback), middleware=middleware)(listener)


@dataclass(frozen=True)
class SlashCommand:
    """`/dunning`: parse once, act on the database, answer in the ack (or look up later)."""

    command: str
    role: Role

    def attach(self, app: AsyncApp, deps: SlackDeps) -> None:
        """Register the listener and its middleware on `app`."""

        async def listener(ack: AsyncAck, command: dict[str, Any]) -> None:
            user = str(command["user_id"])  # checked by `require`
            try:
                parsed = parse_command(str(command.get("text") or ""), now=utcnow())
            except CommandError as error:
                await ack(text=str(error))
                return
            async with deps.db.transaction() as session:
                result = await run_command(
                    session, command=parsed, user=user, playbook=deps.playbook
                )
                if isinstance(result, NeedsLookup):
                    await enqueue_command(
                        session,
                        command=result.command,
                        user=user,
                        channel=command.get("channel_id"),
                    )
                    answer = LOOKING_UP
                else:
                    answer = result.text
            await ack(text=answer)

        app.command(self.command, middleware=[require(self.role, deps)])(listener)


@dataclass(frozen=True)
class HomeOpened:
    """The App Home tab was opened: publish it fresh (a job)."""

    def attach(self, app: AsyncApp, deps: SlackDeps) -> None:
        """Register the listener on `app`."""

        async def listener(event: dict[str, Any]) -> None:
            user = event.get("user")
            if event.get("tab", "home") == "home" and isinstance(user, str):
                async with deps.db.transaction() as session:
                    await enqueue_home(session, user=user)

        app.event("app_home_opened")(listener)


Route = Decide | OpenModal | Submit | SlashCommand | HomeOpened
