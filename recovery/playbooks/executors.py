"""What each action type does when it runs, one function per type, registered by type name.

An executor gets the action's materialised parameters (texts rendered, ids and amounts read
at firing time) and the adapters; it returns a line for the audit log and the card, or raises
`ActionFailed` (cannot succeed as configured), BillingError / TemporaryMailError (retry later)
or another MailError. Stripe writes re-read the object first and carry the action's
idempotency key. Later capabilities register their action types here.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from recovery.domain import OutgoingEmail
from recovery.money import format_amount
from recovery.playbooks.ports import PlaybookConfig, PlaybookNotifier, StripeObjects
from recovery.protocols import BillingWriter, Mailer


class ActionFailed(Exception):
    """An action that cannot succeed as configured (no channel, no TEAM_EMAIL, …)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Execution:
    """One run of one action: its parameters, where it comes from, and the adapters."""

    action_id: int
    firing_id: int
    rule_name: str
    rule_version: str
    params: dict[str, Any]
    objects: StripeObjects | None
    writer: BillingWriter | None
    mailer: Mailer | None
    notifier: PlaybookNotifier | None
    config: PlaybookConfig
    claim: Callable[[], Awaitable[bool]]  # mark the action `running`; False if already taken

    def stripe_objects(self) -> StripeObjects:
        if self.objects is None:
            raise ActionFailed("Stripe is not configured")
        return self.objects

    def stripe_writer(self) -> BillingWriter:
        if self.writer is None:
            raise ActionFailed("Stripe writes are not available (read-only key)")
        return self.writer

    @property
    def signature(self) -> str:
        return f"Playbook “{self.rule_name}” (v{self.rule_version})"


Executor = Callable[[Execution], Awaitable[str]]


async def post_to_slack(run: Execution) -> str:
    """Post the rendered (escaped) text in the rule's channel."""
    channel = run.params.get("channel_id")
    if run.notifier is None:
        raise ActionFailed("Slack is not configured (SLACK_BOT_TOKEN)")
    if not channel:
        raise ActionFailed(f'no channel configured for "{run.params.get("channel")}"')
    await run.notifier.post_message(channel=channel, text=run.params["text"], footer=run.signature)
    return f"posted to {channel}"


async def email_team(run: Execution) -> str:
    """Email a team member once: marked `running` first, never sent again after a crash."""
    params = run.params
    if run.mailer is None:
        raise ActionFailed("email is not configured")
    if not params.get("to"):
        raise ActionFailed("TEAM_EMAIL is not set: nobody to email")
    if not await run.claim():
        return "already_sent"
    text = params.get("body", "") + f"\n\n— dunbot {run.signature}"
    await run.mailer.send(
        OutgoingEmail(
            message_id=f"<playbook-{run.action_id}-{run.firing_id}@dunbot>",
            from_addr=run.config.email_from,
            to_addr=params["to"],
            subject=params.get("subject") or f"dunbot playbook {run.rule_name}",
            text_body=text,
            html_body=f"<pre>{html.escape(text)}</pre>",
        )
    )
    return f"emailed {params['to']}"


async def email_cancellation(run: Execution) -> str:
    """The customer's cancellation confirmation (rendered at firing), once, never resent."""
    params = run.params
    if params.get("skip"):
        return str(params["skip"])
    if run.mailer is None:
        raise ActionFailed("email is not configured")
    if not params.get("to"):
        raise ActionFailed("the customer has no email address")
    if not await run.claim():
        return "already_sent"
    await run.mailer.send(
        OutgoingEmail(
            message_id=f"<playbook-{run.action_id}-{run.firing_id}@dunbot>",
            from_addr=run.config.email_from,
            to_addr=params["to"],
            subject=params["subject"],
            text_body=params.get("body", ""),
            html_body=params.get("html") or f"<pre>{html.escape(params.get('body', ''))}</pre>",
        )
    )
    return f"emailed the cancellation confirmation ({params.get('language')})"


async def set_customer_metadata(run: Execution) -> str:
    """Set metadata on the Stripe customer unless every key already has its value."""
    customer = run.params.get("customer")
    if not customer:
        raise ActionFailed("the event has no customer")
    wanted: dict[str, str] = dict(run.params["metadata"])
    current = await run.stripe_objects().retrieve_object("customer", customer)
    existing = current.get("metadata") or {}
    pairs = ", ".join(f"{k}={v}" for k, v in wanted.items())
    if all(existing.get(k) == v for k, v in wanted.items()):
        return f"metadata {pairs} already set on {customer}: nothing done"
    await run.stripe_writer().update_customer_metadata(
        customer, wanted, idempotency_key=run.params["idempotency_key"]
    )
    return f"set metadata {pairs} on {customer}"


async def refund_charge(run: Execution) -> str:
    """Refund what is left of the charge, unless it is already refunded."""
    charge = run.params.get("charge")
    if not charge:
        raise ActionFailed("the event has no charge")
    current = await run.stripe_objects().retrieve_object("charge", charge)
    amount = int(current.get("amount") or 0)
    refunded = int(current.get("amount_refunded") or 0)
    if current.get("refunded") or (amount and refunded >= amount):
        return f"charge {charge} already refunded: nothing done"
    refund = await run.stripe_writer().refund_charge(
        charge,
        amount=None,
        reason=run.params.get("reason"),
        idempotency_key=run.params["idempotency_key"],
    )
    shown = format_amount(amount - refunded, str(current.get("currency") or "usd"))
    return f"refunded {shown} of charge {charge} ({refund})"


EXECUTORS: dict[str, Executor] = {
    "slack": post_to_slack,
    "email_team": email_team,
    "email_cancellation": email_cancellation,
    "set_customer_metadata": set_customer_metadata,
    "refund_charge": refund_charge,
}
