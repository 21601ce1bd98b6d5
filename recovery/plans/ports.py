"""What running a dunning plan needs from outside (Stripe, Slack), as small Protocols."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class PlanBilling(Protocol):
    """Stripe writes of a plan, each with an idempotency key; may raise BillingError (and
    PaymentDeclined from pay_invoice). Implemented by bot/adapters/stripe_billing.py."""

    async def pay_invoice(self, invoice_id: str, *, idempotency_key: str) -> None: ...

    async def cancel_subscription(
        self, subscription_id: str, *, at_period_end: bool, idempotency_key: str
    ) -> None: ...

    async def update_subscription_metadata(
        self, subscription_id: str, metadata: Mapping[str, str], *, idempotency_key: str
    ) -> None: ...

    async def mark_invoice_uncollectible(
        self, invoice_id: str, *, idempotency_key: str
    ) -> None: ...

    async def void_invoice(self, invoice_id: str, *, idempotency_key: str) -> None: ...

    async def retrieve_object(self, kind: str, object_id: str) -> dict[str, Any]: ...


class PlanNotifier(Protocol):
    """Shows a plan's close-out to the finance team (Slack)."""

    async def sync_closeout_card(self, *, plan_id: int) -> None:
        """Post the close-out card the first time, update it in place afterwards."""
        ...
