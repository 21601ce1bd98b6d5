"""Sandbox subscriptions: Stripe-shaped subscriptions with one priced item, the fields an
invoice of a subscription carries, and cancelling one as dunbot's close-out does.

    sub = billing.add_subscription(customer="cus_…", plan="Pro", interval="year", amount=46_800,
                                   currency="usd")
    billing.add_invoice(customer="cus_…", amount_due=46_800, currency="usd", subscription=sub["id"])

An invoice of a subscription names it in `subscription` (and in `parent.subscription_details`,
as newer API versions do), and each line carries the item's `price` with its `recurring`
interval, so a rule on `subscription.items.price.recurring.interval` has something to read.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.sandbox.payments import SandboxPayments
from recovery.protocols import BillingError, NotFoundError

JsonObject = dict[str, Any]
Interval = Literal["month", "year"]
INTERVAL_LABELS: dict[str, str] = {
    "day": "daily",
    "week": "weekly",
    "month": "monthly",
    "year": "yearly",
}
_PERIOD_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}


def subscription_label(subscription: JsonObject) -> str:
    """What the sandbox page shows for a subscription, e.g. `Pro · yearly` (`… · cancelled`)."""
    items = subscription.get("items", {}).get("data", [])
    price = items[0].get("price", {}) if items else {}
    name = price.get("nickname") or "Subscription"
    interval = (price.get("recurring") or {}).get("interval")
    label = f"{name} · {INTERVAL_LABELS.get(str(interval), str(interval))}"
    if subscription.get("status") == "canceled":
        return f"{label} · cancelled"
    if subscription.get("cancel_at_period_end"):
        return f"{label} · cancels at period end"
    return label


class SandboxSubscriptions(SandboxPayments):
    """Subscriptions held in memory next to the customers and invoices (see SandboxBilling)."""

    written_events: list[JsonObject]  # SandboxBilling's: events of dunbot's own writes
    on_write: Callable[[JsonObject], None] | None  # SandboxBilling's: who hears of each one

    def _subscriptions(self) -> dict[str, JsonObject]:
        found: dict[str, JsonObject] = self.__dict__.setdefault("_subscription_objects", {})
        return found

    def add_subscription(
        self,
        *,
        customer: str,
        plan: str,
        interval: Interval,
        amount: int,
        currency: str,
        id: str | None = None,
        created: datetime | None = None,
    ) -> JsonObject:
        """Add an active subscription of one item (`plan` at `amount` per `interval`)."""
        self._customer_or_error(customer)
        subscription_id = id or self._new_id("sub")
        if subscription_id in self._subscriptions():
            raise BillingError(f"subscription {subscription_id} already exists")
        started = created or self._clock()
        stamp = int(started.timestamp())
        period_days = _PERIOD_DAYS[interval]
        elapsed = max((self._clock() - started).days, 0) % period_days
        period_start = self._clock() - timedelta(days=elapsed)
        product = f"prod_sbx{plan.replace(' ', '')[:12]}"
        price = {
            "id": f"price_sbx{plan.replace(' ', '')[:12]}{interval.capitalize()}{currency.upper()}",
            "object": "price",
            "active": True,
            "billing_scheme": "per_unit",
            "created": stamp,
            "currency": currency.lower(),
            "livemode": False,
            "lookup_key": f"{plan.lower().replace(' ', '_')}_{interval}ly",
            "metadata": {},
            "nickname": plan,
            "product": product,
            "recurring": {
                "interval": interval,
                "interval_count": 1,
                "meter": None,
                "trial_period_days": None,
                "usage_type": "licensed",
            },
            "tax_behavior": "unspecified",
            "type": "recurring",
            "unit_amount": amount,
            "unit_amount_decimal": str(amount),
        }
        item = {
            "id": f"si_{subscription_id.removeprefix('sub_')}",
            "object": "subscription_item",
            "created": stamp,
            "current_period_start": int(period_start.timestamp()),
            "current_period_end": int((period_start + timedelta(days=period_days)).timestamp()),
            "metadata": {},
            "price": price,
            "quantity": 1,
            "subscription": subscription_id,
        }
        subscription: JsonObject = {
            "id": subscription_id,
            "object": "subscription",
            "billing_cycle_anchor": stamp,
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "cancellation_details": {"comment": None, "feedback": None, "reason": None},
            "collection_method": "charge_automatically",
            "created": stamp,
            "currency": currency.lower(),
            "customer": customer,
            "description": None,
            "ended_at": None,
            "items": {
                "object": "list",
                "data": [item],
                "has_more": False,
                "url": f"/v1/subscription_items?subscription={subscription_id}",
            },
            "latest_invoice": None,
            "livemode": False,
            "metadata": {},
            "start_date": stamp,
            "status": "active",
        }
        self._subscriptions()[subscription_id] = subscription
        return copy.deepcopy(subscription)

    def subscription(self, subscription_id: str) -> JsonObject:
        """A copy of the stored subscription."""
        return copy.deepcopy(self._subscription_or_error(subscription_id))

    def subscriptions(self, *, customer: str | None = None) -> list[JsonObject]:
        """Copies of the subscriptions, optionally of one customer, in the order added."""
        return [
            copy.deepcopy(s)
            for s in self._subscriptions().values()
            if customer is None or s["customer"] == customer
        ]

    def subscription_invoice_fields(self, subscription_id: str, invoice_id: str) -> JsonObject:
        """The fields an invoice of this subscription carries (and its line's price)."""
        subscription = self._subscription_or_error(subscription_id)
        item = subscription["items"]["data"][0]
        subscription["latest_invoice"] = invoice_id
        return {
            "subscription": subscription_id,
            "parent": {
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {"metadata": {}, "subscription": subscription_id},
            },
            "line": {
                "price": copy.deepcopy(item["price"]),
                "subscription": subscription_id,
                "parent": {
                    "type": "subscription_item_details",
                    "invoice_item_details": None,
                    "subscription_item_details": {
                        "invoice_item": None,
                        "proration": False,
                        "proration_details": {"credited_items": None},
                        "subscription": subscription_id,
                        "subscription_item": item["id"],
                    },
                },
                "pricing": {
                    "type": "price_details",
                    "price_details": {
                        "price": item["price"]["id"],
                        "product": item["price"]["product"],
                    },
                    "unit_amount_decimal": item["price"]["unit_amount_decimal"],
                },
            },
        }

    def set_subscription_status(self, subscription_id: str, status: str) -> None:
        """Follow the latest invoice as Stripe does: `past_due` after a failure, `active` once paid
        (a cancelled subscription stays cancelled)."""
        subscription = self._subscriptions().get(subscription_id)
        if subscription is not None and subscription["status"] != "canceled":
            subscription["status"] = status

    # -- reads and writes dunbot makes ---------------------------------------------------------

    async def retrieve_object(self, kind: str, object_id: str) -> dict[str, Any]:
        if kind == "subscription":
            return copy.deepcopy(self._subscription_or_error(object_id))
        return await super().retrieve_object(kind, object_id)

    async def cancel_subscription(
        self, subscription_id: str, *, at_period_end: bool, idempotency_key: str
    ) -> None:
        """Cancel now (`customer.subscription.deleted`) or at the period's end, once per key;
        another key on a cancelled subscription is refused as Stripe refuses it."""
        done = self.__dict__.setdefault("_subscription_writes", {})
        if idempotency_key in done:
            return
        subscription = self._subscription_or_error(subscription_id)
        if subscription["status"] == "canceled":
            raise BillingError(
                f"cancel refused: subscription {subscription_id} is already canceled"
            )
        now = self._clock()
        if at_period_end:
            subscription["cancel_at_period_end"] = True
            subscription["cancel_at"] = subscription["items"]["data"][0]["current_period_end"]
            done[idempotency_key] = None
            return
        subscription.update(
            status="canceled",
            canceled_at=int(now.timestamp()),
            ended_at=int(now.timestamp()),
            cancellation_details={
                "comment": None,
                "feedback": None,
                "reason": "cancellation_requested",
            },
        )
        event = self._payment_event("customer.subscription.deleted", subscription, now)
        done[idempotency_key] = event
        self._publish(event)

    async def update_subscription_metadata(
        self, subscription_id: str, metadata: Mapping[str, str], *, idempotency_key: str
    ) -> None:
        """Set metadata keys (an empty value removes one, as in Stripe), once per key."""
        done = self.__dict__.setdefault("_subscription_writes", {})
        if idempotency_key in done:
            return
        stored = self._subscription_or_error(subscription_id).setdefault("metadata", {})
        for key, value in metadata.items():
            if value == "":
                stored.pop(key, None)
            else:
                stored[key] = value
        done[idempotency_key] = None

    def _publish(self, event: JsonObject) -> None:
        """Record the event of one of dunbot's writes; the listener (the demo) sends it to the
        webhook, as Stripe sends an event for every change, whoever made it."""
        self.written_events.append(event)
        if self.on_write is not None:
            self.on_write(copy.deepcopy(event))

    def _subscription_or_error(self, subscription_id: str) -> JsonObject:
        try:
            return self._subscriptions()[subscription_id]
        except KeyError:
            raise NotFoundError(
                f"subscription {subscription_id} not found in the sandbox"
            ) from None
