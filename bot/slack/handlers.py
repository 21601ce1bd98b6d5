"""Every Slack listener of dunbot, in one table, registered on an AsyncApp by `register()`.

Bolt verifies the signature; `verified_request` marks it; per row, middleware checks the
role and parses the typed card reference (a button carries the card id and the version
the person saw, so a late or double click is refused, not applied); the listener records
the decision and queues the side effects as jobs; `error_handler` answers every error.
"""

from __future__ import annotations

from functools import partial

from slack_bolt.async_app import AsyncApp

from bot.slack import decisions
from bot.slack.batch_review import BatchReviewRoute, review_routes
from bot.slack.blocks.modals import done_modal, edit_modal, regenerate_modal, reject_modal
from bot.slack.dead_job_retry import retry_dead_job
from bot.slack.deps import Role, SlackDeps
from bot.slack.errors import error_handler
from bot.slack.ids import (
    SLASH_COMMAND,
    ApprovalAction,
    BatchAction,
    DeadJobAction,
    EditDraftField,
    ModalCallback,
    VipAction,
)
from bot.slack.listeners import Decide, HomeOpened, OpenModal, Route, SlashCommand, Submit
from bot.slack.metadata import CardKind
from bot.slack.middleware import verified_request

__all__ = ["SlackDeps", "register", "routes"]

DRAFT, TASK, BATCH = CardKind.DRAFT, CardKind.VIP_TASK, CardKind.BATCH
FINANCE, MANAGER = Role.FINANCE, Role.ACCOUNT_MANAGER


def routes(deps: SlackDeps) -> tuple[Route | BatchReviewRoute, ...]:
    """One row per listener: what it answers to, who may use it, which card it acts on."""
    regenerate = partial(regenerate_modal, follows_instructions=deps.drafter_follows_instructions)
    return (
        Decide(ApprovalAction.APPROVE, FINANCE, DRAFT, decisions.approve),
        Decide(ApprovalAction.APPROVE_EMAIL, FINANCE, DRAFT, decisions.approve_email_only),
        Decide(ApprovalAction.APPROVE_SMS, FINANCE, DRAFT, decisions.approve_sms_only),
        Decide(ApprovalAction.RETRY_SEND, FINANCE, DRAFT, decisions.retry_send),
        Decide(ApprovalAction.MARK_SENT, FINANCE, DRAFT, decisions.mark_sent),
        OpenModal(ApprovalAction.EDIT, FINANCE, DRAFT, edit_modal),
        OpenModal(ApprovalAction.REGENERATE, FINANCE, DRAFT, regenerate),
        OpenModal(ApprovalAction.REJECT, FINANCE, DRAFT, reject_modal),
        Submit(ModalCallback.EDIT_DRAFT, FINANCE, DRAFT, decisions.edit, EditDraftField.BODY),
        Submit(
            ModalCallback.REGENERATE_DRAFT,
            FINANCE,
            DRAFT,
            decisions.regenerate,
            tell_success=True,
        ),
        Submit(ModalCallback.REJECT_DRAFT, FINANCE, DRAFT, decisions.reject),
        Decide(BatchAction.APPROVE_ALL, FINANCE, BATCH, decisions.approve_batch),
        Decide(BatchAction.REJECT_ALL, FINANCE, BATCH, decisions.reject_batch),
        *review_routes(),
        Decide(VipAction.CLAIM, MANAGER, TASK, decisions.claim),
        Decide(VipAction.RELEASE, MANAGER, TASK, decisions.release),
        OpenModal(VipAction.DONE, MANAGER, TASK, done_modal),
        Submit(ModalCallback.DONE_TASK, MANAGER, TASK, decisions.complete),
        SlashCommand(SLASH_COMMAND, Role.TEAM),
        HomeOpened(),
        Decide(
            DeadJobAction.RETRY,
            FINANCE,
            CardKind.DEAD_JOB,
            retry_dead_job,
            tell_success=True,
        ),
    )


def register(app: AsyncApp, deps: SlackDeps) -> None:
    """Wire every listener of dunbot onto `app`."""
    app.middleware(verified_request)
    for route in routes(deps):
        route.attach(app, deps)
    app.error(error_handler(deps.db))
