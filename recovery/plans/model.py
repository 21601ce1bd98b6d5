"""A dunning plan as data: when dunbot retries, which retries get an email, how it ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from recovery.domain import AttemptStage

DEFAULT_PLAN_NAME = "default"


class ClosingAction(StrEnum):
    """What the close-out does in Stripe, in this order."""

    CANCEL_SUBSCRIPTION = "cancel_subscription"
    MARK_UNCOLLECTIBLE = "mark_uncollectible"
    VOID = "void"


class CancelWhen(StrEnum):
    NOW = "now"
    PERIOD_END = "period_end"


@dataclass(frozen=True, slots=True)
class PlanEmail:
    """After dunbot's retry number `after_retry` declined, draft an email in this stage."""

    after_retry: int
    stage: AttemptStage


@dataclass(frozen=True, slots=True)
class DunningPlan:
    """Retries at offsets after the first failure, emails after some of them, a grace period
    for a personal contact, then the closing actions (approval-gated unless told otherwise)."""

    name: str
    description: str = ""
    offsets: tuple[timedelta, ...] = ()  # retry k runs offsets[k-1] after the first failure
    emails: tuple[PlanEmail, ...] = ()
    grace: timedelta = timedelta(0)
    closing: tuple[ClosingAction, ...] = ()
    cancel: CancelWhen = CancelWhen.NOW
    closeout_approval: bool = True
    line: int | None = None

    @property
    def retries(self) -> int:
        return len(self.offsets)

    @property
    def manages_payments(self) -> bool:
        """dunbot retries the payment itself (Stripe's automatic retries should be off)."""
        return self.retries > 0

    def gap_before(self, retry: int) -> timedelta:
        """Time between retry `retry - 1` (0: the first failure) and retry `retry`."""
        previous = self.offsets[retry - 2] if retry >= 2 else timedelta(0)
        return self.offsets[retry - 1] - previous

    def email_after(self, retry: int) -> PlanEmail | None:
        return next((e for e in self.emails if e.after_retry == retry), None)

    @property
    def stripe_writes(self) -> tuple[str, ...]:
        """Restricted-key permissions the plan writes with."""
        needed = {"Invoices"} if self.retries else set()
        if ClosingAction.CANCEL_SUBSCRIPTION in self.closing:
            needed.add("Subscriptions")
        return tuple(sorted(needed))

    def summary(self) -> str:
        """'8 retries over 60 days; emails after retries 2, 5, 8; 7 days' grace; then …'."""
        if not self.retries:
            return "Stripe's own retries and dunbot's usual emails"
        span = _days(self.offsets[-1])
        parts = [f"{self.retries} retr{'y' if self.retries == 1 else 'ies'} over {span}"]
        if self.emails:
            parts.append(
                "emails after retries " + ", ".join(str(e.after_retry) for e in self.emails)
            )
        if self.grace:
            parts.append(f"{_days(self.grace)} of grace")
        approval = " (close-out approval)" if self.closing and self.closeout_approval else ""
        parts.append(f"then {self.describe_closing()}{approval}")
        return "; ".join(parts)

    def describe_closing(self) -> str:
        """'cancel the subscription and mark the invoice uncollectible' (or 'leave it open')."""
        words = {
            ClosingAction.CANCEL_SUBSCRIPTION: "cancel the subscription"
            + (" at the end of its period" if self.cancel is CancelWhen.PERIOD_END else ""),
            ClosingAction.MARK_UNCOLLECTIBLE: "mark the invoice uncollectible",
            ClosingAction.VOID: "void the invoice",
        }
        if not self.closing:
            return "leave the invoice open"
        return " and ".join(words[a] for a in self.closing)


def _days(span: timedelta) -> str:
    days = span.total_seconds() / 86400
    text = f"{days:g}" if days == int(days) else f"{days:.1f}"
    return f"{text} day{'' if days == 1 else 's'}"


DEFAULT_PLAN = DunningPlan(
    name=DEFAULT_PLAN_NAME,
    description="Stripe's own retries and dunbot's usual email cadence.",
)
