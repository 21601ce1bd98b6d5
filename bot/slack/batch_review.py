"""Review one by one: the listeners of a batch's modal (open it, page, act on one draft).

Opening and paging answer with `views.open` / `views.update` inside the request (the
trigger_id lives 3 s; a page is the person's own view, nothing is stored). A decision on one
draft is the same compare-and-set as on its card (`recovery.decisions`), its side effects
jobs; then the modal's page is re-rendered in place. Every button in the modal names a draft
of the batch the modal was opened for (checked: a forged value naming another draft is refused).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.actors import slack_actor
from bot.slack.batch_cards import batch_view
from bot.slack.blocks.batch_review import review_modal
from bot.slack.blocks.modals import edit_modal, reject_modal
from bot.slack.cards import approval_view
from bot.slack.deps import Role, SlackDeps
from bot.slack.errors import CardError, MalformedRequest, user_of
from bot.slack.ids import BatchAction
from bot.slack.jobs import enqueue_ephemeral
from bot.slack.listeners import OUT_OF_DATE
from bot.slack.metadata import (
    CardKind,
    CardRef,
    MessageRef,
    MetadataError,
    ModalMetadata,
    ReviewPageRef,
)
from bot.slack.middleware import CLICK, Click, card_click, require
from recovery import decisions
from recovery.batches import batch_of_draft

log = logging.getLogger("dunbot.slack")

REVIEW_CLICK = "review_click"
NOT_IN_BATCH = "This draft is not one of this batch's; nothing changed."


@dataclass(frozen=True, kw_only=True)
class ReviewClick:
    """A button clicked inside a batch's Review one by one modal."""

    user: str
    batch_id: int
    message: MessageRef | None  # the batch message (for ephemeral answers)
    page: int
    view_id: str
    view_hash: str | None
    value: str
    trigger_id: str | None


async def review_click(
    body: dict[str, Any],
    context: dict[str, Any],
    next: Any,  # noqa: A002 - Bolt injects `next` by name
) -> Any:
    """Parse the modal's metadata (which batch, which page) and the button's value."""
    user = user_of(body)
    view = body.get("view")
    actions = body.get("actions")
    action = actions[0] if isinstance(actions, list) and actions else None
    if user is None or not isinstance(view, dict) or not isinstance(action, dict):
        raise MalformedRequest(None)
    try:
        meta = ModalMetadata.parse(view.get("private_metadata"))
        meta.card.expect(CardKind.BATCH)
    except MetadataError as error:
        log.warning("bad review modal metadata", extra={"error": str(error)})
        raise CardError(None) from None
    trigger = body.get("trigger_id")
    view_hash = view.get("hash")
    context[REVIEW_CLICK] = ReviewClick(
        user=user,
        batch_id=meta.card.id,
        message=meta.message,
        page=meta.page or 0,
        view_id=str(view.get("id") or ""),
        view_hash=view_hash if isinstance(view_hash, str) else None,
        value=str(action.get("value") or ""),
        trigger_id=trigger if isinstance(trigger, str) else None,
    )
    return await next()


async def _show_page(
    deps: SlackDeps, client: AsyncWebClient, click: ReviewClick, page: int
) -> None:
    """Re-render a page of the modal in place (a lost race with another update is harmless:
    the next click renders the current state)."""
    async with deps.db.sessions() as session:
        view = await batch_view(session, click.batch_id)
    if view is None:
        return
    try:
        await client.views_update(
            view_id=click.view_id,
            hash=click.view_hash,
            view=review_modal(view, page=page, origin=click.message),
        )
    except SlackApiError as error:
        log.info("review modal not updated: %s", error.response.get("error"))


async def _listed_draft(deps: SlackDeps, click: ReviewClick) -> CardRef:
    """The draft a modal button names, refused unless it is a member of the modal's batch."""
    try:
        ref = CardRef.parse(click.value).expect(CardKind.DRAFT)
    except MetadataError:
        raise CardError(NOT_IN_BATCH) from None
    async with deps.db.sessions() as session:
        if await batch_of_draft(session, ref.id) != click.batch_id:
            raise CardError(NOT_IN_BATCH)
    return ref


@dataclass(frozen=True)
class OpenBatchReview:
    """Review one by one on a batch message: the modal's first page (views.open)."""

    def attach(self, app: AsyncApp, deps: SlackDeps) -> None:
        """Register the listener and its middleware on `app`."""

        async def listener(ack: AsyncAck, context: dict[str, Any], client: AsyncWebClient) -> None:
            click: Click = context[CLICK]
            async with deps.db.sessions() as session:
                view = await batch_view(session, click.card.id)
            if view is None:
                raise CardError(OUT_OF_DATE)
            await ack()
            await client.views_open(
                trigger_id=click.trigger_id, view=review_modal(view, page=0, origin=click.message)
            )

        middleware = [require(Role.FINANCE, deps), card_click(CardKind.BATCH, deps.db)]
        app.action(str(BatchAction.REVIEW), middleware=middleware)(listener)


@dataclass(frozen=True)
class ReviewPage:
    """Previous / Next in the modal: another page, views.update."""

    def attach(self, app: AsyncApp, deps: SlackDeps) -> None:
        """Register the listener and its middleware on `app`."""

        async def listener(ack: AsyncAck, context: dict[str, Any], client: AsyncWebClient) -> None:
            click: ReviewClick = context[REVIEW_CLICK]
            try:
                page = ReviewPageRef.parse(click.value)
            except MetadataError:
                raise CardError(None) from None
            if page.batch != click.batch_id:
                raise CardError(None)
            await ack()
            await _show_page(deps, client, click, page.page)

        middleware = [require(Role.FINANCE, deps), review_click]
        app.action(str(BatchAction.REVIEW_PAGE), middleware=middleware)(listener)


@dataclass(frozen=True)
class ReviewApprove:
    """Approve one draft in the modal: compare-and-set, jobs, then the page re-rendered."""

    def attach(self, app: AsyncApp, deps: SlackDeps) -> None:
        """Register the listener and its middleware on `app`."""

        async def listener(ack: AsyncAck, context: dict[str, Any], client: AsyncWebClient) -> None:
            click: ReviewClick = context[REVIEW_CLICK]
            ref = await _listed_draft(deps, click)
            async with deps.db.transaction() as session:
                outcome = await decisions.approve_draft(
                    session,
                    draft_id=ref.id,
                    version=ref.version,
                    actor=slack_actor(click.user),
                    channels=deps.dunning_channels,
                )
                if not outcome.ok:
                    await enqueue_ephemeral(
                        session,
                        channel=click.message.channel if click.message else None,
                        user=click.user,
                        text=outcome.message,
                    )
            await ack()
            await _show_page(deps, client, click, click.page)

        middleware = [require(Role.FINANCE, deps), review_click]
        app.action(str(BatchAction.REVIEW_APPROVE), middleware=middleware)(listener)


@dataclass(frozen=True)
class ReviewForm:
    """Edit or Reject one draft in the modal: its form pushed on top (views.push); the
    submission is the card's own (`Submit` rows of the route table)."""

    action: BatchAction

    def attach(self, app: AsyncApp, deps: SlackDeps) -> None:
        """Register the listener and its middleware on `app`."""
        build = edit_modal if self.action is BatchAction.REVIEW_EDIT else reject_modal

        async def listener(ack: AsyncAck, context: dict[str, Any], client: AsyncWebClient) -> None:
            click: ReviewClick = context[REVIEW_CLICK]
            ref = await _listed_draft(deps, click)
            async with deps.db.sessions() as session:
                view = await approval_view(session, ref.id)
            if view is None or view.version != ref.version:
                raise CardError(OUT_OF_DATE)
            await ack()
            await client.views_push(
                trigger_id=click.trigger_id, view=build(view, origin=click.message)
            )

        middleware = [require(Role.FINANCE, deps), review_click]
        app.action(str(self.action), middleware=middleware)(listener)


BatchReviewRoute = OpenBatchReview | ReviewPage | ReviewApprove | ReviewForm


def review_routes() -> tuple[BatchReviewRoute, ...]:
    """The modal's rows of the route table."""
    return (
        OpenBatchReview(),
        ReviewPage(),
        ReviewApprove(),
        ReviewForm(BatchAction.REVIEW_EDIT),
        ReviewForm(BatchAction.REVIEW_REJECT),
    )
