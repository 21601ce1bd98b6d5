"""Sandbox payments for the playbooks: payment intents, charges, early fraud warnings, and the
writes the playbooks make (customer metadata, refunds), recorded for the sandbox page."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from recovery.protocols import NotFoundError

JsonObject = dict[str, Any]


class SandboxPayments:
    """Mixed into SandboxBilling: Stripe-shaped payments and the playbook writes."""

    _customers: dict[str, JsonObject]
    _invoices: dict[str, JsonObject]
    _now: Callable[[], datetime]

    def _new_id(self, prefix: str) -> str:
        raise NotImplementedError  # SandboxBilling's

    def _payments_state(self) -> dict[str, Any]:
        state = self.__dict__.setdefault(
            "_payments",
            {
                "payment_intent": {},
                "charge": {},
                "radar.early_fraud_warning": {},
                "refund": {},
                "idempotent": {},
                "writes": [],
            },
        )
        return state

    # -- what the sandbox page fires -------------------------------------------------------------

    def large_payment(self, customer_id: str, *, amount: int, currency: str = "usd") -> JsonObject:
        """A successful payment (intent and charge); returns `payment_intent.succeeded`."""
        state, now = self._payments_state(), self._clock()
        self._customer_or_error(customer_id)
        charge = self._new_charge(customer_id, amount, currency, now)
        intent = {
            "id": self._next_id("pi"),
            "object": "payment_intent",
            "amount": amount,
            "amount_received": amount,
            "currency": currency,
            "customer": customer_id,
            "latest_charge": charge["id"],
            "status": "succeeded",
            "created": int(now.timestamp()),
            "livemode": False,
            "metadata": {},
        }
        charge["payment_intent"] = intent["id"]
        state["payment_intent"][intent["id"]] = intent
        return self._payment_event("payment_intent.succeeded", intent, now)

    def fraud_warning(self, customer_id: str, *, amount: int, currency: str = "usd") -> JsonObject:
        """A paid charge Radar warns about; returns `radar.early_fraud_warning.created`."""
        state, now = self._payments_state(), self._clock()
        self._customer_or_error(customer_id)
        charge = self._new_charge(customer_id, amount, currency, now)
        warning = {
            "id": self._next_id("issfr"),
            "object": "radar.early_fraud_warning",
            "actionable": True,
            "charge": charge["id"],
            "created": int(now.timestamp()),
            "fraud_type": "made_with_stolen_card",
            "livemode": False,
            "payment_intent": None,
        }
        state["radar.early_fraud_warning"][warning["id"]] = warning
        return self._payment_event("radar.early_fraud_warning.created", warning, now)

    @property
    def playbook_writes(self) -> list[JsonObject]:
        """Every metadata change and refund the playbooks made, oldest first."""
        return copy.deepcopy(self._payments_state()["writes"])

    # -- reads and writes the playbooks make -----------------------------------------------------

    async def retrieve_object(self, kind: str, object_id: str) -> dict[str, Any]:
        if kind == "customer":
            return copy.deepcopy(self._customer_or_error(object_id))
        if kind == "invoice" and object_id in self._invoices:
            return copy.deepcopy(self._invoices[object_id])
        found = self._payments_state().get(kind, {}).get(object_id)
        if found is None:
            raise NotFoundError(f"{kind} {object_id} not found in the sandbox")
        return copy.deepcopy(found)

    async def update_customer_metadata(
        self, customer_id: str, metadata: Mapping[str, str], *, idempotency_key: str
    ) -> None:
        state = self._payments_state()
        if idempotency_key in state["idempotent"]:
            return
        customer = self._customer_or_error(customer_id)
        customer.setdefault("metadata", {}).update(metadata)
        state["idempotent"][idempotency_key] = customer_id
        state["writes"].append(
            {"kind": "metadata", "customer": customer_id, "metadata": dict(metadata)}
        )

    async def refund_charge(
        self, charge_id: str, *, amount: int | None, reason: str | None, idempotency_key: str
    ) -> str:
        state = self._payments_state()
        if idempotency_key in state["idempotent"]:
            return str(state["idempotent"][idempotency_key])
        charge = state["charge"].get(charge_id)
        if charge is None:
            raise NotFoundError(f"charge {charge_id} not found in the sandbox")
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining <= 0:
            return "already refunded"
        refunded = remaining if amount is None else min(amount, remaining)
        refund = {
            "id": self._next_id("re"),
            "object": "refund",
            "amount": refunded,
            "charge": charge_id,
            "currency": charge["currency"],
            "reason": reason,
            "status": "succeeded",
        }
        charge["amount_refunded"] += refunded
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        state["refund"][refund["id"]] = refund
        state["idempotent"][idempotency_key] = refund["id"]
        state["writes"].append(
            {
                "kind": "refund",
                "charge": charge_id,
                "amount": refunded,
                "currency": charge["currency"],
            }
        )
        return str(refund["id"])

    async def pay_invoice(self, invoice_id: str, *, idempotency_key: str) -> None:
        raise NotFoundError(f"invoice {invoice_id}: use the sandbox page to pay")

    async def mark_invoice_uncollectible(self, invoice_id: str, *, idempotency_key: str) -> None:
        raise NotFoundError(f"invoice {invoice_id}: use the sandbox page")

    # -- helpers -------------------------------------------------------------------------------

    def _new_charge(
        self, customer_id: str, amount: int, currency: str, now: datetime
    ) -> JsonObject:
        charge = {
            "id": self._next_id("ch"),
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": 0,
            "currency": currency,
            "customer": customer_id,
            "paid": True,
            "refunded": False,
            "status": "succeeded",
            "created": int(now.timestamp()),
            "livemode": False,
            "metadata": {},
            "payment_intent": None,
        }
        self._payments_state()["charge"][charge["id"]] = charge
        return charge

    def _payment_event(self, event_type: str, obj: JsonObject, now: datetime) -> JsonObject:
        return {
            "id": self._next_id("evt"),
            "object": "event",
            "created": int(now.timestamp()),
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "type": event_type,
        }

    def _customer_or_error(self, customer_id: str) -> JsonObject:
        try:
            return self._customers[customer_id]
        except KeyError:
            raise NotFoundError(f"customer {customer_id} not found in the sandbox") from None

    def _clock(self) -> datetime:
        return self._now()

    def _next_id(self, prefix: str) -> str:
        return self._new_id(prefix)
