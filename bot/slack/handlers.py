"""Slack listeners: verify (Bolt), authorise, record the decision, ack; side effects are jobs.

Registered on an AsyncApp by `register()`, never at import. Buttons carry a typed CardRef
(card id and the version the person saw) so a late or double click is refused, not applied.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import blocks
from bot.slack.cards import approval_view, vip_view
from bot.slack.commands import NEEDS_LOOKUP, run_command
from bot.slack.ids import (
    SLASH_COMMAND,
    ApprovalAction,
    DoneTaskField,
    EditDraftField,
    ModalCallback,
    RegenerateDraftField,
    RejectDraftField,
    VipAction,
)
from bot.slack.jobs import enqueue_command, enqueue_ephemeral, enqueue_home
from bot.slack.metadata import CardKind, CardRef, MessageRef, MetadataError, ModalMetadata
from recovery import decisions
from recovery.decisions import Outcome
from storage.db import Database
from storage.models import OutboxEmail

log = logging.getLogger("dunbot.slack")

NOT_FINANCE = "Only the finance approvers (FINANCE_APPROVERS) can do this; nothing changed."
NOT_MANAGER = "Only account managers (ACCOUNT_MANAGERS) can do this; nothing changed."
NOT_TEAM = "Only finance approvers and account managers can use /dunning."


@dataclass(frozen=True)
class SlackDeps:
    db: Database
    finance_approvers: frozenset[str]
    account_managers: frozenset[str]
    livemode: bool = True
    company_name: str = ""


def _user(body: dict[str, Any]) -> str:
    return body["user"]["id"]


def _channel(body: dict[str, Any]) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def _origin(body: dict[str, Any]) -> MessageRef | None:
    channel = _channel(body)
    ts = (body.get("message") or {}).get("ts") or (body.get("container") or {}).get("message_ts")
    return MessageRef(channel=channel, ts=ts) if channel and ts else None


def _value(state: dict[str, Any], field: Any) -> str:
    entry = state.get(field.block_id, {}).get(field.action_id, {})
    return (entry.get("value") or "").strip()


def register(app: AsyncApp, deps: SlackDeps) -> None:
    """Wire every listener of dunbot onto `app`."""
    db = deps.db

    async def reply(body: dict[str, Any], text: str, channel: str | None = None) -> None:
        async with db.transaction() as session:
            await enqueue_ephemeral(
                session, channel=channel or _channel(body), user=_user(body), text=text
            )

    async def clicked_card(
        ack: AsyncAck, body: dict[str, Any], allowed: frozenset[str], refusal: str, kind: CardKind
    ) -> tuple[str, CardRef] | None:
        """Who clicked and the card (of `kind`) the button names; None once the click is refused
        with an ephemeral reply and acked: the user is not `allowed`, or the value is no card."""
        user = _user(body)
        if user not in allowed:
            await reply(body, refusal)
            await ack()
            return None
        try:
            return user, CardRef.parse(body["actions"][0].get("value")).expect(kind)
        except MetadataError as error:
            log.warning("bad button value", extra={"error": str(error)})
            await reply(body, "This button is not one of dunbot's current cards.")
            await ack()
            return None

    def button(
        action_id: str,
        allowed: frozenset[str],
        refusal: str,
        kind: CardKind,
        decide: Callable[[Any, CardRef, str], Awaitable[Outcome]],
    ) -> None:
        """A button that decides at once: authorise, compare-and-set, ack, ephemeral outcome."""

        async def listener(ack: AsyncAck, body: dict[str, Any]) -> None:
            clicked = await clicked_card(ack, body, allowed, refusal, kind)
            if clicked is None:
                return
            user, ref = clicked
            async with db.transaction() as session:
                outcome = await decide(session, ref, user)
                await enqueue_ephemeral(
                    session, channel=_channel(body), user=user, text=outcome.message
                )
            await ack()

        app.action(action_id)(listener)

    button(
        ApprovalAction.APPROVE,
        deps.finance_approvers,
        NOT_FINANCE,
        CardKind.DRAFT,
        lambda s, ref, user: decisions.approve_draft(
            s, draft_id=ref.id, version=ref.version, user=user
        ),
    )
    button(
        VipAction.CLAIM,
        deps.account_managers,
        NOT_MANAGER,
        CardKind.VIP_TASK,
        lambda s, ref, user: decisions.claim_task(
            s, task_id=ref.id, version=ref.version, user=user
        ),
    )
    button(
        VipAction.RELEASE,
        deps.account_managers,
        NOT_MANAGER,
        CardKind.VIP_TASK,
        lambda s, ref, user: decisions.release_task(
            s, task_id=ref.id, version=ref.version, user=user
        ),
    )

    async def outbox_of(session: Any, draft_id: int) -> int | None:
        from sqlalchemy import select

        return await session.scalar(select(OutboxEmail.id).where(OutboxEmail.draft_id == draft_id))

    async def retry_send(session: Any, ref: CardRef, user: str) -> Outcome:
        outbox_id = await outbox_of(session, ref.id)
        if outbox_id is None:
            return Outcome(False, "Nothing changed: this draft has no email.")
        return await decisions.retry_unknown_email(session, outbox_id=outbox_id, user=user)

    async def mark_sent(session: Any, ref: CardRef, user: str) -> Outcome:
        outbox_id = await outbox_of(session, ref.id)
        if outbox_id is None:
            return Outcome(False, "Nothing changed: this draft has no email.")
        return await decisions.mark_email_sent(session, outbox_id=outbox_id, user=user)

    button(
        ApprovalAction.RETRY_SEND, deps.finance_approvers, NOT_FINANCE, CardKind.DRAFT, retry_send
    )
    button(ApprovalAction.MARK_SENT, deps.finance_approvers, NOT_FINANCE, CardKind.DRAFT, mark_sent)

    def modal_button(
        action_id: str,
        allowed: frozenset[str],
        refusal: str,
        kind: CardKind,
        build: Callable[[Any, MessageRef | None], dict[str, Any]],
    ) -> None:
        """A button that opens a modal (views.open must use the trigger id within 3 s)."""

        async def listener(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
            clicked = await clicked_card(ack, body, allowed, refusal, kind)
            if clicked is None:
                return
            _, ref = clicked
            async with db.sessions() as session:
                view = (
                    await approval_view(session, ref.id)
                    if kind is CardKind.DRAFT
                    else await vip_view(session, ref.id, livemode=deps.livemode)
                )
            await ack()
            if view is None or view.version != ref.version:
                await reply(
                    body, "This card is out of date; nothing changed. Look at the updated card."
                )
                return
            await client.views_open(trigger_id=body["trigger_id"], view=build(view, _origin(body)))

        app.action(action_id)(listener)

    modal_button(
        ApprovalAction.EDIT,
        deps.finance_approvers,
        NOT_FINANCE,
        CardKind.DRAFT,
        lambda v, o: blocks.edit_modal(v, origin=o),
    )
    modal_button(
        ApprovalAction.REGENERATE,
        deps.finance_approvers,
        NOT_FINANCE,
        CardKind.DRAFT,
        lambda v, o: blocks.regenerate_modal(v, origin=o),
    )
    modal_button(
        ApprovalAction.REJECT,
        deps.finance_approvers,
        NOT_FINANCE,
        CardKind.DRAFT,
        lambda v, o: blocks.reject_modal(v, origin=o),
    )
    modal_button(
        VipAction.DONE,
        deps.account_managers,
        NOT_MANAGER,
        CardKind.VIP_TASK,
        lambda v, o: blocks.done_modal(v, origin=o),
    )

    def submission(
        callback_id: str,
        allowed: frozenset[str],
        refusal: str,
        kind: CardKind,
        decide: Callable[[Any, CardRef, str, dict[str, Any]], Awaitable[Outcome]],
        error_field: Any = None,
    ) -> None:
        async def listener(ack: AsyncAck, body: dict[str, Any]) -> None:
            user = _user(body)
            view = body["view"]
            try:
                meta = ModalMetadata.parse(view.get("private_metadata"))
                meta.card.expect(kind)
            except MetadataError:
                await ack(
                    response_action="errors",
                    errors={}
                    if error_field is None
                    else {error_field.block_id: "This form is out of date; close it."},
                )
                return
            channel = meta.message.channel if meta.message else None
            if user not in allowed:
                await ack()
                async with db.transaction() as session:
                    await enqueue_ephemeral(session, channel=channel, user=user, text=refusal)
                return
            async with db.transaction() as session:
                outcome = await decide(session, meta.card, user, view["state"]["values"])
                if outcome.ok or not outcome.errors:
                    await enqueue_ephemeral(
                        session, channel=channel, user=user, text=outcome.message
                    )
            if outcome.errors and error_field is not None:
                await ack(
                    response_action="errors",
                    errors={error_field.block_id: "; ".join(outcome.errors)[:150]},
                )
                return
            await ack()

        app.view(callback_id)(listener)

    submission(
        ModalCallback.EDIT_DRAFT,
        deps.finance_approvers,
        NOT_FINANCE,
        CardKind.DRAFT,
        lambda s, ref, user, state: decisions.edit_draft(
            s,
            draft_id=ref.id,
            version=ref.version,
            user=user,
            subject=_value(state, EditDraftField.SUBJECT),
            body=_value(state, EditDraftField.BODY),
            allowed_terms=(deps.company_name,) if deps.company_name else (),
        ),
        error_field=EditDraftField.BODY,
    )
    submission(
        ModalCallback.REJECT_DRAFT,
        deps.finance_approvers,
        NOT_FINANCE,
        CardKind.DRAFT,
        lambda s, ref, user, state: decisions.reject_draft(
            s,
            draft_id=ref.id,
            version=ref.version,
            user=user,
            reason=_value(state, RejectDraftField.REASON),
        ),
    )
    submission(
        ModalCallback.REGENERATE_DRAFT,
        deps.finance_approvers,
        NOT_FINANCE,
        CardKind.DRAFT,
        lambda s, ref, user, state: decisions.regenerate_draft(
            s,
            draft_id=ref.id,
            version=ref.version,
            user=user,
            instruction=_value(state, RegenerateDraftField.INSTRUCTION) or None,
        ),
    )
    submission(
        ModalCallback.DONE_TASK,
        deps.account_managers,
        NOT_MANAGER,
        CardKind.VIP_TASK,
        lambda s, ref, user, state: decisions.complete_task(
            s,
            task_id=ref.id,
            version=ref.version,
            user=user,
            note=_value(state, DoneTaskField.NOTE),
        ),
    )

    async def dunning(ack: AsyncAck, command: dict[str, Any]) -> None:
        user = command["user_id"]
        if user not in deps.finance_approvers | deps.account_managers:
            await ack(text=NOT_TEAM)
            return
        text = command.get("text") or ""
        async with db.transaction() as session:
            answer = await run_command(session, text=text, user=user)
            if answer == NEEDS_LOOKUP:
                await enqueue_command(
                    session, {"text": text, "user": user, "channel": command.get("channel_id")}
                )
                answer = "Looking that customer up in Stripe; the answer follows in a moment."
        await ack(text=answer)

    app.command(SLASH_COMMAND)(dunning)

    async def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            async with db.transaction() as session:
                await enqueue_home(session, user=event["user"])

    app.event("app_home_opened")(home_opened)

    async def on_error(error: Exception) -> None:
        correlation = uuid.uuid4().hex[:8]
        log.exception(
            "slack listener failed", extra={"correlation_id": correlation}, exc_info=error
        )

    app.error(on_error)
