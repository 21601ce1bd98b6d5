"""What a rule can do, in order: the registry of action types and their parameters.

Each type names its parameters, the Stripe permission it writes with, whether it can wait for
a Slack approval (and which amount `approval_above` compares), and the objects it needs
re-read. Later capabilities add types here (dunning plans, owners, exclusions) and an
executor for each in the job handlers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from recovery.playbooks.durations import DurationError, parse_duration
from recovery.playbooks.fields import FieldError, resolve_field
from recovery.playbooks.templates import Template, TemplateError, compile_template

ParamKind = Literal[
    "template",
    "channel",
    "recipient",
    "metadata",
    "duration",
    "field",
    "choice",
    "owner",
    "name",
    "notify_to",
]

CHANNEL_NAMES = ("alerts", "collections", "approvals")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_METADATA_KEY = re.compile(r"^[\w\-.]{1,40}$")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_NAME = re.compile(r"^[\w][\w \-.]{0,99}$")


class ActionError(ValueError):
    """An action parameter that does not fit; the message says what to write."""


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: ParamKind
    required: bool = True
    default: Any = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One kind of action."""

    type: str
    summary: str
    params: tuple[Param, ...]
    stripe_write: str | None = None  # restricted-key permission it needs, e.g. "Refunds"
    approvable: bool = False  # money-moving or customer-visible: may require approval
    customer_rule: bool = False  # only for customer triggers (dunbot.customer.*), one per rule
    amount_path: Callable[[str], str | None] = field(default=lambda _kind: None)
    reads: Callable[[str], tuple[str, ...]] = field(default=lambda _kind: ())

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def _charge_field(kind: str) -> str | None:
    """Which field of the event's object holds the charge to refund."""
    return {
        "radar.early_fraud_warning": "charge",
        "payment_intent": "latest_charge",
        "invoice": "charge",
        "charge": "id",
    }.get(kind)


def _charge_amount(kind: str) -> str | None:
    ref = _charge_field(kind)
    if ref is None:
        return None
    return "amount" if ref == "id" else f"{ref}.amount"


def _charge_reads(kind: str) -> tuple[str, ...]:
    ref = _charge_field(kind)
    return () if ref in (None, "id") else (ref,)


ACTION_SPECS: dict[str, ActionSpec] = {
    spec.type: spec
    for spec in (
        ActionSpec(
            type="slack",
            summary="post a message to a Slack channel",
            params=(Param("channel", "channel", default="alerts"), Param("text", "template")),
        ),
        ActionSpec(
            type="email_team",
            summary="email a team member",
            params=(
                Param("to", "recipient", default="team"),
                Param("subject", "template"),
                Param("body", "template"),
            ),
        ),
        ActionSpec(
            type="set_customer_metadata",
            summary="set metadata on the Stripe customer",
            params=(Param("metadata", "metadata"),),
            stripe_write="Customers",
            reads=lambda _kind: ("customer",),
        ),
        ActionSpec(
            type="refund_charge",
            summary="refund a charge in full",
            params=(
                Param(
                    "reason",
                    "choice",
                    required=False,
                    default="fraudulent",
                    choices=("fraudulent", "duplicate", "requested_by_customer"),
                ),
            ),
            stripe_write="Refunds",
            approvable=True,
            amount_path=_charge_amount,
            reads=_charge_reads,
        ),
        ActionSpec(
            type="alert_overdue",
            summary="post an overdue-invoice alert with a Claim button (once per invoice)",
            params=(Param("channel", "channel", required=False, default="collections"),),
            reads=lambda _kind: ("customer",),
        ),
        ActionSpec(
            type="email_cancellation",
            summary="email the customer a confirmation of the cancellation (once)",
            params=(
                Param(
                    "closeout",
                    "choice",
                    required=False,
                    default="skip",
                    choices=("skip", "send"),
                ),
            ),
            approvable=True,
            reads=lambda _kind: ("customer",),
        ),
        ActionSpec(
            type="wait",
            summary="wait before the next action",
            params=(Param("duration", "duration"),),
        ),
        ActionSpec(
            type="assign_owner",
            summary="assign the customer's owner(s)",
            params=(Param("owner", "owner"),),
            customer_rule=True,
        ),
        ActionSpec(
            type="assign_plan",
            summary="assign the customer's dunning plan",
            params=(Param("plan", "name"),),
            customer_rule=True,
        ),
        ActionSpec(
            type="exclude",
            summary="exclude the customer from dunning",
            params=(Param("reason", "template", required=False, default="excluded by a rule"),),
            customer_rule=True,
        ),
        ActionSpec(
            type="notify",
            summary="tell a person (Slack DM), the owner or a channel",
            params=(Param("to", "notify_to"), Param("text", "template")),
            customer_rule=True,
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Approval:
    """`approval = "slack"`, optionally only above an amount (`approval_above`)."""

    via: Literal["slack"]
    above: Any = None  # Money | None


@dataclass(frozen=True, slots=True)
class Action:
    """One checked action of a rule."""

    type: str
    params: Mapping[str, Any]
    templates: Mapping[str, Template]
    approval: Approval | None = None
    line: int | None = None

    @property
    def spec(self) -> ActionSpec:
        return ACTION_SPECS[self.type]


def check_param(param: Param, value: Any, *, kinds: list[str]) -> Any:
    """Validate one parameter value; returns it normalised (templates compiled separately)."""
    if param.kind == "template":
        if not isinstance(value, str):
            raise ActionError(f"{param.name} must be text in quotes")
        return value
    if param.kind == "channel":
        if not isinstance(value, str) or not (value in CHANNEL_NAMES or _CHANNEL_ID.match(value)):
            raise ActionError(
                f'channel "{value}" is not one of {", ".join(CHANNEL_NAMES)} or a channel id (C…)'
            )
        return value
    if param.kind == "recipient":
        if not isinstance(value, str) or not (value == "team" or _EMAIL.match(value)):
            raise ActionError(f'to = "{value}": write "team" (TEAM_EMAIL) or an email address')
        return value
    if param.kind == "metadata":
        return _check_metadata(value)
    if param.kind == "duration":
        try:
            parse_duration(value)
        except DurationError as error:
            raise ActionError(str(error)) from None
        return value
    if param.kind == "field":
        for kind in kinds:
            try:
                resolve_field(str(value), kind)
            except FieldError as error:
                raise ActionError(str(error)) from None
        return value
    if param.kind == "owner":
        return _check_owner(value)
    if param.kind == "name":
        if not isinstance(value, str) or not _NAME.match(value):
            raise ActionError(f"{param.name} must be a short name (letters, digits, - . _)")
        return value
    if param.kind == "notify_to":
        ok = isinstance(value, str) and (
            value == "owner"
            or value in CHANNEL_NAMES
            or bool(_CHANNEL_ID.match(value) or _SLACK_USER.match(value))
        )
        if not ok:
            raise ActionError(
                f'to = "{value}": write "owner", a Slack user id (U…), '
                f"{', '.join(CHANNEL_NAMES)} or a channel id (C…)"
            )
        return value
    if param.kind == "choice":
        if value not in param.choices:
            raise ActionError(f'{param.name} = "{value}": one of ' + ", ".join(param.choices))
        return value
    raise ActionError(f"{param.name}: unsupported parameter")  # pragma: no cover


def _check_owner(value: Any) -> list[str]:
    """Slack user ids (U…), or `metadata.<key>` holding an email resolved in Slack."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(i, str) for i in items):
        raise ActionError('owner must be a Slack user id, a list of them, or "metadata.<key>"')
    for item in items:
        if item.startswith("metadata."):
            if len(items) != 1 or not _METADATA_KEY.match(item.removeprefix("metadata.")):
                raise ActionError(
                    f'owner = "{item}": one metadata field holding an email, '
                    'e.g. "metadata.account_manager_email"'
                )
        elif not _SLACK_USER.match(item):
            raise ActionError(f'owner "{item}" is not a Slack user id (U…) or "metadata.<key>"')
    return list(items)


def _check_metadata(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or not value:
        raise ActionError('metadata must be a table, e.g. metadata = { dunbot_tier = "vip" }')
    out: dict[str, str] = {}
    for key, item in value.items():
        if not _METADATA_KEY.match(key):
            raise ActionError(f'metadata key "{key}": letters, digits, _ - . only, ≤ 40 long')
        if isinstance(item, bool):
            item = "true" if item else "false"
        if not isinstance(item, str | int | float):
            raise ActionError(f'metadata "{key}": the value must be text or a number')
        if len(str(item)) > 500:
            raise ActionError(f'metadata "{key}": at most 500 characters')
        out[key] = str(item)
    return out


def compile_templates(
    spec: ActionSpec, params: Mapping[str, Any], *, kinds: list[str]
) -> dict[str, Template]:
    """Compile the template parameters of an action against the rule's event objects."""
    templates: dict[str, Template] = {}
    for param in spec.params:
        if param.kind == "template" and param.name in params:
            try:
                templates[param.name] = compile_template(params[param.name], kinds=kinds)
            except TemplateError as error:
                raise ActionError(f"{param.name}: {error}") from None
    return templates
