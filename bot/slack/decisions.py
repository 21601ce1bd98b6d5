"""What each button and form decides: typed click or submission in, recovery Outcome out.

Each function runs inside the listener's transaction; the listener tells the person the
outcome ephemerally. The domain (`recovery.decisions`) does the compare-and-set.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.slack.actors import slack_actor
from bot.slack.deps import SlackDeps
from bot.slack.ids import DoneTaskField, EditDraftField, RegenerateDraftField, RejectDraftField
from bot.slack.middleware import Click, Submission
from recovery import batches, decisions
from recovery.decisions import Outcome
from storage.models import OutboxEmail

NO_EMAIL = Outcome(False, "Nothing changed: this draft has no email.")


async def approve(session: AsyncSession, click: Click, deps: SlackDeps) -> Outcome:
    """Approve the draft: its email (and SMS, per DUNNING_CHANNELS) is queued to be sent once."""
    return await decisions.approve_draft(
        session,
        draft_id=click.card.id,
        version=click.card.version,
        actor=slack_actor(click.user),
        channels=deps.dunning_channels,
    )


async def approve_email_only(session: AsyncSession, click: Click, _deps: SlackDeps) -> Outcome:
    """Approve the draft for email only (the card's choice when SMS is on too)."""
    return await decisions.approve_draft(
        session,
        draft_id=click.card.id,
        version=click.card.version,
        actor=slack_actor(click.user),
        channels=frozenset({"email"}),
    )


async def approve_sms_only(session: AsyncSession, click: Click, _deps: SlackDeps) -> Outcome:
    """Approve the draft for SMS only (the card's choice when SMS is on too)."""
    return await decisions.approve_draft(
        session,
        draft_id=click.card.id,
        version=click.card.version,
        actor=slack_actor(click.user),
        channels=frozenset({"sms"}),
    )


async def approve_batch(session: AsyncSession, click: Click, deps: SlackDeps) -> Outcome:
    """Approve all: exactly the drafts the clicked version of the batch message listed."""
    return await batches.decide_batch(
        session,
        batch_id=click.card.id,
        version=click.card.version,
        actor=slack_actor(click.user),
        decision="approve",
        channels=deps.dunning_channels,
    )


async def reject_batch(session: AsyncSession, click: Click, _deps: SlackDeps) -> Outcome:
    """Reject all: no email for the drafts the clicked version of the batch message listed."""
    return await batches.decide_batch(
        session,
        batch_id=click.card.id,
        version=click.card.version,
        actor=slack_actor(click.user),
        decision="reject",
    )


async def claim(session: AsyncSession, click: Click, _deps: SlackDeps) -> Outcome:
    """Claim the VIP task for the clicking account manager."""
    return await decisions.claim_task(
        session, task_id=click.card.id, version=click.card.version, actor=slack_actor(click.user)
    )


async def release(session: AsyncSession, click: Click, _deps: SlackDeps) -> Outcome:
    """Give the VIP task back to the pool."""
    return await decisions.release_task(
        session, task_id=click.card.id, version=click.card.version, actor=slack_actor(click.user)
    )


async def _outbox_of(session: AsyncSession, draft_id: int) -> int | None:
    return await session.scalar(select(OutboxEmail.id).where(OutboxEmail.draft_id == draft_id))


async def retry_send(session: AsyncSession, click: Click, _deps: SlackDeps) -> Outcome:
    """Send a failed or unknown email again."""
    outbox_id = await _outbox_of(session, click.card.id)
    if outbox_id is None:
        return NO_EMAIL
    return await decisions.retry_unknown_email(
        session, outbox_id=outbox_id, actor=slack_actor(click.user)
    )


async def mark_sent(session: AsyncSession, click: Click, _deps: SlackDeps) -> Outcome:
    """Record that an email of unknown delivery did go out."""
    outbox_id = await _outbox_of(session, click.card.id)
    if outbox_id is None:
        return NO_EMAIL
    return await decisions.mark_email_sent(
        session, outbox_id=outbox_id, actor=slack_actor(click.user)
    )


async def edit(session: AsyncSession, submitted: Submission, deps: SlackDeps) -> Outcome:
    """Save an edited draft (guardrails may refuse it with field errors)."""
    return await decisions.edit_draft(
        session,
        draft_id=submitted.card.id,
        version=submitted.card.version,
        actor=slack_actor(submitted.user),
        subject=submitted.form.text(EditDraftField.SUBJECT),
        body=submitted.form.text(EditDraftField.BODY),
        allowed_terms=(deps.company_name,) if deps.company_name else (),
    )


async def reject(session: AsyncSession, submitted: Submission, _deps: SlackDeps) -> Outcome:
    """Reject the draft with the person's reason; nothing is sent."""
    return await decisions.reject_draft(
        session,
        draft_id=submitted.card.id,
        version=submitted.card.version,
        actor=slack_actor(submitted.user),
        reason=submitted.form.text(RejectDraftField.REASON),
    )


TEMPLATE_IGNORES_INSTRUCTIONS = (
    "The template drafter (LLM_PROVIDER=template) cannot follow instructions, so the new "
    "draft has the same words; use Edit to change them."
)


async def regenerate(session: AsyncSession, submitted: Submission, deps: SlackDeps) -> Outcome:
    """Retire the draft and queue a new one, with the optional instruction; says so when the
    template drafter cannot follow that instruction, rather than ignoring it silently."""
    instruction = submitted.form.text(RegenerateDraftField.INSTRUCTION) or None
    outcome = await decisions.regenerate_draft(
        session,
        draft_id=submitted.card.id,
        version=submitted.card.version,
        actor=slack_actor(submitted.user),
        instruction=instruction,
    )
    if outcome.ok and instruction and not deps.drafter_follows_instructions:
        return Outcome(True, f"{outcome.message} {TEMPLATE_IGNORES_INSTRUCTIONS}")
    return outcome


async def complete(session: AsyncSession, submitted: Submission, _deps: SlackDeps) -> Outcome:
    """Close the VIP task with the optional note."""
    return await decisions.complete_task(
        session,
        task_id=submitted.card.id,
        version=submitted.card.version,
        actor=slack_actor(submitted.user),
        note=submitted.form.text(DoneTaskField.NOTE),
    )
