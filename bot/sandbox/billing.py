"""The Billing protocol fully in memory, for `dunbot demo`: Stripe-shaped data, no network.

    sandbox = seed_demo()
    event = sandbox.fail_payment(DEMO_INVOICES["standard_fr"], decline_code="expired_card")
    # feed `event` through the same ingest path as a verified webhook (recovery.ingest)
    snapshot = await sandbox.get_invoice(event["data"]["object"]["id"])

Customers and invoices are held as dicts shaped like Stripe's API objects and read through the
same `invoice_snapshot` / `customer_snapshot` mappers as `StripeBilling`, so the demo exercises
the real mapping. The mutators (`fail_payment`, `pay`, `void`, `mark_uncollectible`) change an
invoice the way Stripe would and return the Stripe event (`{"id": "evt_…", "object": "event",
"type": …, "data": {"object": invoice}}`) that Stripe would send for the change.
"""

from __future__ import annotations

import copy
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.sandbox.subscriptions import SandboxSubscriptions
from recovery.customers.facts import InvoiceRecord
from recovery.customers.records import invoice_record
from recovery.decline import categorise_decline
from recovery.domain import CustomerSnapshot, DeclineInfo, InvoiceSnapshot
from recovery.protocols import BillingError, NotFoundError, PaymentDeclined
from recovery.snapshots import customer_snapshot, invoice_snapshot

JsonObject = dict[str, Any]

SANDBOX_API_VERSION = "2026-06-24.dahlia"
HOSTED_INVOICE_BASE = "https://invoice.stripe.com/i/sandbox/"
# Stripe's default custom retry schedule: 3, 5 and 7 days after the previous attempt, four
# attempts in all; after the fourth failure `next_payment_attempt` is cleared.
DEFAULT_RETRY_DAYS: tuple[int, ...] = (3, 5, 7)

# Stripe's customer-facing messages for a few decline codes (others get the generic one).
_DECLINE_MESSAGES = {
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "Your card has expired.",
    "authentication_required": "Your card was declined. This transaction requires authentication.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
}
_GENERIC_DECLINE_MESSAGE = "Your card was declined."


class SandboxError(ValueError):
    """An impossible change, as Stripe would refuse it (e.g. paying a paid invoice)."""


def _ts(moment: datetime) -> int:
    """An aware datetime as Stripe's Unix seconds."""
    return int(moment.timestamp())


def _system_now() -> datetime:
    return datetime.now(UTC)


class SandboxBilling(SandboxSubscriptions):
    """`recovery.protocols.Billing` over in-memory Stripe-shaped customers and invoices."""

    def __init__(
        self,
        *,
        now: Callable[[], datetime] = _system_now,
        retry_days: Iterable[int] = DEFAULT_RETRY_DAYS,
    ) -> None:
        """`now` is the clock for timestamps; `retry_days` the gaps between automatic attempts
        (its length + 1 is the number of attempts before the final failure)."""
        self._now = now
        self._retry_days = tuple(retry_days)
        self._customers: dict[str, JsonObject] = {}
        self._deleted: set[str] = set()
        self._invoices: dict[str, JsonObject] = {}
        self._declines: dict[str, DeclineInfo] = {}
        self._no_stripe_retries: set[str] = set()  # invoices Stripe never retries on its own
        self._advanced: dict[str, timedelta] = {}  # how far each invoice's clock was moved
        self._ids = itertools.count(1)
        self._written: dict[str, JsonObject | None] = {}  # idempotency key → its event
        self.written_events: list[JsonObject] = []  # events of dunbot's own writes, in order
        self.on_write: Callable[[JsonObject], None] | None = None  # e.g. deliver to the webhook

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(customers={len(self._customers)}, "
            f"invoices={len(self._invoices)})"
        )

    @property
    def max_attempts(self) -> int:
        """How many automatic attempts an invoice gets before its failure is final."""
        return len(self._retry_days) + 1

    # -- data set-up ---------------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_sbx{next(self._ids):010d}"

    def add_customer(
        self,
        *,
        name: str | None,
        email: str | None,
        id: str | None = None,
        preferred_locales: Iterable[str] = (),
        metadata: Mapping[str, str] | None = None,
        currency: str | None = "usd",
        created: datetime | None = None,
    ) -> JsonObject:
        """Add a customer shaped like Stripe's and return a copy of it."""
        customer_id = id or self._new_id("cus")
        if customer_id in self._customers:
            raise SandboxError(f"customer {customer_id} already exists")
        customer: JsonObject = {
            "id": customer_id,
            "object": "customer",
            "created": _ts(created or self._now()),
            "currency": currency,
            "deleted": False,
            "description": None,
            "email": email,
            "invoice_prefix": customer_id.removeprefix("cus_")[:8].upper(),
            "livemode": False,
            "metadata": dict(metadata or {}),
            "name": name,
            "preferred_locales": list(preferred_locales),
        }
        self._customers[customer_id] = customer
        return copy.deepcopy(customer)

    def delete_customer(self, customer_id: str) -> None:
        """Delete a customer: reads answer Stripe's `{"id", "object", "deleted": true}` stub."""
        self._customer_dict(customer_id)
        self._deleted.add(customer_id)

    def add_invoice(
        self,
        *,
        customer: str,
        amount_due: int,
        currency: str,
        status: str = "open",
        id: str | None = None,
        number: str | None = None,
        description: str = "Subscription",
        created: datetime | None = None,
        due_date: datetime | None = None,
        metadata: Mapping[str, str] | None = None,
        subscription: str | None = None,
        stripe_retries: bool = True,
    ) -> JsonObject:
        """Add a finalised invoice of `customer` (open, paid, void or uncollectible).

        A paid invoice has `amount_paid == amount_due`; the others owe the whole amount, except
        a void one, which owes nothing. `customer_email` and `customer_name` are copied from
        the customer as Stripe does on finalisation. An invoice of a `subscription` names it
        and its line carries the subscription's price; `stripe_retries=False` stands for an
        invoice Stripe does not retry after a failure (dunbot's plan retries it instead).
        """
        if status not in {"open", "paid", "void", "uncollectible"}:
            raise SandboxError(f"unsupported invoice status {status!r}")
        owner = self._customer_dict(customer)
        invoice_id = id or self._new_id("in")
        if invoice_id in self._invoices:
            raise SandboxError(f"invoice {invoice_id} already exists")
        created_at = _ts(created or self._now())
        paid = amount_due if status == "paid" else 0
        remaining = 0 if status in {"paid", "void"} else amount_due
        invoice: JsonObject = {
            "id": invoice_id,
            "object": "invoice",
            "amount_due": amount_due,
            "amount_paid": paid,
            "amount_remaining": remaining,
            "attempt_count": 1 if status == "paid" else 0,
            "attempted": status == "paid",
            "billing_reason": "subscription_cycle",
            "collection_method": "charge_automatically",
            "created": created_at,
            "currency": currency.lower(),
            "customer": customer,
            "customer_email": owner.get("email"),
            "customer_name": owner.get("name"),
            "description": None,
            "due_date": _ts(due_date) if due_date else None,
            "hosted_invoice_url": f"{HOSTED_INVOICE_BASE}{invoice_id}",
            "invoice_pdf": f"{HOSTED_INVOICE_BASE}{invoice_id}/pdf",
            "lines": {
                "object": "list",
                "data": [
                    {
                        "id": f"il_{invoice_id.removeprefix('in_')}",
                        "object": "line_item",
                        "amount": amount_due,
                        "currency": currency.lower(),
                        "description": description,
                        "quantity": 1,
                    }
                ],
                "has_more": False,
                "url": f"/v1/invoices/{invoice_id}/lines",
            },
            "livemode": False,
            "metadata": dict(metadata or {}),
            "next_payment_attempt": None,
            "number": number or self._next_number(owner),
            "status": status,
            "status_transitions": {
                "finalized_at": created_at,
                "marked_uncollectible_at": created_at if status == "uncollectible" else None,
                "paid_at": created_at if status == "paid" else None,
                "voided_at": created_at if status == "void" else None,
            },
            "total": amount_due,
        }
        if subscription is not None:
            fields = self.subscription_invoice_fields(subscription, invoice_id)
            invoice["lines"]["data"][0].update(fields.pop("line"))
            invoice.update(fields)
        else:
            invoice.update(subscription=None, parent=None)
        if not stripe_retries:
            self._no_stripe_retries.add(invoice_id)
        self._invoices[invoice_id] = invoice
        return copy.deepcopy(invoice)

    def _next_number(self, owner: JsonObject) -> str:
        """The customer's next invoice number, e.g. `SBXMAYAC-0004` (prefix-sequence)."""
        issued = sum(1 for invoice in self._invoices.values() if invoice["customer"] == owner["id"])
        return f"{owner['invoice_prefix']}-{issued + 1:04d}"

    def add_paid_invoices(
        self,
        *,
        customer: str,
        count: int,
        amount: int,
        currency: str,
        every: timedelta = timedelta(days=30),
        description: str = "Subscription",
        subscription: str | None = None,
    ) -> list[JsonObject]:
        """Add `count` paid invoices, one per `every` going back from now (billing history)."""
        now = self._now()
        return [
            self.add_invoice(
                customer=customer,
                amount_due=amount,
                currency=currency,
                status="paid",
                description=description,
                created=now - every * (count - index),
                subscription=subscription,
            )
            for index in range(count)
        ]

    # -- reading the raw data (the demo page and tests) ---------------------------------------

    def customer(self, customer_id: str) -> JsonObject:
        """A copy of the stored customer dict (even when deleted)."""
        return copy.deepcopy(self._customer_dict(customer_id))

    def invoice(self, invoice_id: str) -> JsonObject:
        """A copy of the stored invoice dict."""
        return copy.deepcopy(self._invoice_dict(invoice_id))

    def customers(self) -> list[JsonObject]:
        """Copies of all live customers, in the order they were added."""
        return [
            copy.deepcopy(customer)
            for customer_id, customer in self._customers.items()
            if customer_id not in self._deleted
        ]

    def invoices(
        self, *, customer: str | None = None, status: str | None = None
    ) -> list[JsonObject]:
        """Copies of the invoices, optionally of one customer and/or in one status."""
        return [
            copy.deepcopy(invoice)
            for invoice in self._invoices.values()
            if (customer is None or invoice["customer"] == customer)
            and (status is None or invoice["status"] == status)
        ]

    # -- changes, each returning the Stripe event it would cause -------------------------------

    def fail_payment(
        self,
        invoice_id: str,
        *,
        decline_code: str | None = "insufficient_funds",
        code: str = "card_declined",
        advice_code: str | None = None,
        message: str | None = None,
        final: bool | None = None,
        at: datetime | None = None,
    ) -> JsonObject:
        """Record a failed automatic charge of an open invoice; returns `invoice.payment_failed`.

        `attempt_count` goes up by one and `next_payment_attempt` is set to the next retry of
        the schedule, or cleared when this was the final attempt (`final=True`, or the schedule
        is exhausted) or Stripe does not retry this invoice. The decline is what `decline_info`
        reports from then on; `at` is when the attempt happened (default: now).
        """
        invoice = self._invoice_dict(invoice_id)
        if invoice["status"] != "open":
            raise SandboxError(f"invoice {invoice_id} is {invoice['status']}, not open")
        now = at or self._now()
        attempt = int(invoice["attempt_count"]) + 1
        is_final = attempt >= self.max_attempts if final is None else final
        retries = not is_final and invoice_id not in self._no_stripe_retries
        invoice["attempt_count"] = attempt
        invoice["attempted"] = True
        invoice["next_payment_attempt"] = (
            _ts(now + timedelta(days=self._retry_days[attempt - 1])) if retries else None
        )
        if invoice.get("subscription"):
            self.set_subscription_status(invoice["subscription"], "past_due")
        self._declines[invoice_id] = DeclineInfo(
            category=categorise_decline(decline_code, code, advice_code),
            decline_code=decline_code,
            advice_code=advice_code,
            message=message or _DECLINE_MESSAGES.get(decline_code or "", _GENERIC_DECLINE_MESSAGE),
        )
        return self._event("invoice.payment_failed", invoice, now)

    def pay(self, invoice_id: str) -> JsonObject:
        """Settle an open (or uncollectible) invoice in full; returns `invoice.paid`."""
        invoice = self._invoice_dict(invoice_id)
        if invoice["status"] not in {"open", "uncollectible"}:
            raise SandboxError(f"invoice {invoice_id} is {invoice['status']}, it cannot be paid")
        now = self._now()
        invoice.update(
            status="paid",
            amount_paid=invoice["amount_due"],
            amount_remaining=0,
            attempted=True,
            next_payment_attempt=None,
        )
        invoice["status_transitions"]["paid_at"] = _ts(now)
        self._declines.pop(invoice_id, None)
        if invoice.get("subscription"):
            self.set_subscription_status(invoice["subscription"], "active")
        return self._event("invoice.paid", invoice, now)

    def void(self, invoice_id: str) -> JsonObject:
        """Void an open (or uncollectible) invoice; returns `invoice.voided`."""
        invoice = self._invoice_dict(invoice_id)
        if invoice["status"] not in {"open", "uncollectible"}:
            raise SandboxError(f"invoice {invoice_id} is {invoice['status']}, it cannot be voided")
        now = self._now()
        invoice.update(status="void", amount_remaining=0, next_payment_attempt=None)
        invoice["status_transitions"]["voided_at"] = _ts(now)
        return self._event("invoice.voided", invoice, now)

    def mark_uncollectible(self, invoice_id: str) -> JsonObject:
        """Give up on an open invoice; returns `invoice.marked_uncollectible`."""
        invoice = self._invoice_dict(invoice_id)
        if invoice["status"] != "open":
            raise SandboxError(f"invoice {invoice_id} is {invoice['status']}, not open")
        now = self._now()
        invoice.update(status="uncollectible", next_payment_attempt=None)
        invoice["status_transitions"]["marked_uncollectible_at"] = _ts(now)
        return self._event("invoice.marked_uncollectible", invoice, now)

    # -- time passing for one invoice ----------------------------------------------------------

    def advance_invoice(self, invoice_id: str, *, by: timedelta) -> list[JsonObject]:
        """Move one invoice's clock `by` forward; returns the events Stripe sends meanwhile.

        Every timestamp of the invoice moves `by` into the past (so its due date and next
        automatic attempt come closer, as if that time had passed for it alone). Within that
        window an automatic retry that falls due fails again with the same decline (the card
        was not changed; "Customer pays" settles it), and an open invoice that passes its due
        date gets `invoice.overdue`, each event stamped with when it happened, in time order.
        """
        invoice = self._invoice_dict(invoice_id)
        if by <= timedelta(0):
            raise SandboxError("time only moves forward")
        now = self._now()
        seconds = int(by.total_seconds())
        for field in ("created", "due_date", "next_payment_attempt", "period_start", "period_end"):
            if isinstance(invoice.get(field), int):
                invoice[field] -= seconds
        transitions = invoice["status_transitions"]
        for field, value in transitions.items():
            if isinstance(value, int):
                transitions[field] = value - seconds
        self._advanced[invoice_id] = self._advanced.get(invoice_id, timedelta(0)) + by
        return self._events_in_window(invoice, start=now - by, now=now)

    def advanced_by(self, invoice_id: str) -> timedelta:
        """How far the invoice's clock has been moved forward in all (zero when never)."""
        return self._advanced.get(invoice_id, timedelta(0))

    def _events_in_window(
        self, invoice: JsonObject, *, start: datetime, now: datetime
    ) -> list[JsonObject]:
        """Stripe's events for an invoice whose clock just went from `start` to `now`."""
        timed: list[tuple[int, JsonObject]] = []
        due = invoice.get("due_date")
        if (
            isinstance(due, int)
            and _ts(start) <= due < _ts(now)
            and invoice["status"] == "open"
            and invoice["amount_remaining"] > 0
        ):
            overdue_at = datetime.fromtimestamp(due + 1, tz=UTC)
            timed.append((due + 1, self._event("invoice.overdue", invoice, overdue_at)))
        decline = self._declines.get(invoice["id"], DeclineInfo())
        while invoice["status"] == "open":
            attempt_at = invoice.get("next_payment_attempt")
            if not isinstance(attempt_at, int) or attempt_at > _ts(now):
                break
            event = self.fail_payment(
                invoice["id"],
                decline_code=decline.decline_code,
                advice_code=decline.advice_code,
                message=decline.message,
                at=datetime.fromtimestamp(attempt_at, tz=UTC),
            )
            timed.append((attempt_at, event))
        return [event for _at, event in sorted(timed, key=lambda pair: pair[0])]

    def _event(self, event_type: str, invoice: JsonObject, now: datetime) -> JsonObject:
        """The Stripe event for a change of `invoice`, with a copy of it as `data.object`."""
        return {
            "id": self._new_id("evt"),
            "object": "event",
            "api_version": SANDBOX_API_VERSION,
            "created": _ts(now),
            "data": {"object": copy.deepcopy(invoice)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }

    # -- the Billing protocol -----------------------------------------------------------------

    async def get_invoice(self, invoice_id: str) -> InvoiceSnapshot:
        """The invoice as it stands now."""
        return invoice_snapshot(self._invoice_dict(invoice_id))

    async def get_customer(self, customer_id: str) -> CustomerSnapshot:
        """A customer; a deleted one comes back with `deleted=True`."""
        customer = self._customer_dict(customer_id)
        if customer_id in self._deleted:
            return customer_snapshot({"id": customer_id, "object": "customer", "deleted": True})
        return customer_snapshot(customer)

    async def find_customer_by_email(self, email: str) -> CustomerSnapshot | None:
        """The newest live customer with this email (exact, then lower-cased), or None.

        Like Stripe's `email` filter the match is case-sensitive, hence the second try.
        """
        wanted = email.strip()
        if not wanted:
            return None
        live = [c for c in self._customers.values() if c["id"] not in self._deleted]
        for candidate in dict.fromkeys([wanted, wanted.lower()]):
            matches = [c for c in live if c.get("email") == candidate]
            if matches:
                newest = max(matches, key=lambda c: int(c["created"]))
                return customer_snapshot(newest)
        return None

    async def lifetime_value(self, customer_id: str) -> dict[str, int]:
        """Sum of `amount_paid` over all paid invoices of the customer, per currency."""
        totals: defaultdict[str, int] = defaultdict(int)
        for invoice in self._invoices.values():
            if invoice["customer"] == customer_id and invoice["status"] == "paid":
                totals[invoice["currency"]] += int(invoice["amount_paid"])
        return dict(totals)

    async def invoice_history(self, customer_id: str) -> list[InvoiceRecord]:
        """Every invoice of the customer, for the customer facts."""
        return [invoice_record(invoice) for invoice in self.invoices(customer=customer_id)]

    async def decline_info(self, invoice: InvoiceSnapshot) -> DeclineInfo:
        """Why the invoice's latest payment attempt failed; UNKNOWN if none was recorded."""
        return self._declines.get(invoice.id, DeclineInfo()).model_copy()

    # -- BillingWriter: dunbot's own writes, once per idempotency key -------------------------

    async def pay_invoice(self, invoice_id: str, *, idempotency_key: str) -> None:
        """Pay an open invoice in full; paid → nothing. A card that declined the invoice's
        latest attempt declines again (one more failed attempt, PaymentDeclined) until the
        customer pays on the page."""
        if idempotency_key in self._written:
            event = self._written[idempotency_key]
            if event is not None and event["type"] == "invoice.payment_failed":
                raise self._declined(invoice_id)
            return
        if self._invoice_dict(invoice_id)["status"] == "paid":
            self._written[idempotency_key] = None
            return
        decline = self._declines.get(invoice_id)
        if decline is None:
            self._remember(idempotency_key, self.pay(invoice_id))
            return
        failed = self.fail_payment(
            invoice_id,
            decline_code=decline.decline_code,
            advice_code=decline.advice_code,
            message=decline.message,
        )
        self._remember(idempotency_key, failed)
        raise self._declined(invoice_id)

    def _declined(self, invoice_id: str) -> PaymentDeclined:
        decline = self._declines.get(invoice_id, DeclineInfo())
        return PaymentDeclined(
            f"the payment of {invoice_id} was declined (card_declined)",
            decline_code=decline.decline_code,
        )

    async def mark_invoice_uncollectible(self, invoice_id: str, *, idempotency_key: str) -> None:
        if idempotency_key in self._written:
            return
        try:
            event = self.mark_uncollectible(invoice_id)
        except SandboxError as error:
            raise BillingError(str(error)) from None
        self._remember(idempotency_key, event)

    async def void_invoice(self, invoice_id: str, *, idempotency_key: str) -> None:
        """Void an open invoice, once per key (a plan's closing action)."""
        if idempotency_key in self._written:
            return
        try:
            event = self.void(invoice_id)
        except SandboxError as error:
            raise BillingError(str(error)) from None
        self._remember(idempotency_key, event)

    def _remember(self, idempotency_key: str, event: JsonObject) -> None:
        self._written[idempotency_key] = event
        self._publish(event)

    # -- lookups --------------------------------------------------------------------------------

    def _customer_dict(self, customer_id: str) -> JsonObject:
        try:
            return self._customers[customer_id]
        except KeyError:
            raise NotFoundError(f"customer {customer_id} not found in the sandbox") from None

    def _invoice_dict(self, invoice_id: str) -> JsonObject:
        try:
            return self._invoices[invoice_id]
        except KeyError:
            raise NotFoundError(f"invoice {invoice_id} not found in the sandbox") from None


# Which seeded invoice plays which part in the demo (all open, unpaid, never attempted).
DEMO_INVOICES: dict[str, str] = {
    "vip_ltv": "in_sbxDemoVipLtv01",
    "vip_amount": "in_sbxDemoVipBig01",
    "standard_en": "in_sbxDemoStdEn001",
    "standard_fr": "in_sbxDemoStdFr001",
    "standard_de": "in_sbxDemoStdDe001",
    "standard_jpy": "in_sbxDemoStdJp001",
}
# The subscription of each part's customer: (plan, interval).
DEMO_SUBSCRIPTIONS: dict[str, tuple[str, str]] = {
    "vip_ltv": ("Team", "month"),
    "vip_amount": ("Enterprise", "year"),
    "standard_en": ("Pro", "month"),
    "standard_fr": ("Pro", "month"),
    "standard_de": ("Pro", "year"),
    "standard_jpy": ("Pro", "month"),
}
# The standard annual subscriber's invoice: the annual dunning plan's example in the demo.
DEMO_ANNUAL_INVOICE = DEMO_INVOICES["standard_de"]


def seed_demo(*, now: Callable[[], datetime] = _system_now) -> SandboxBilling:
    """A sandbox with the demo's customers, their subscriptions and billing history, and one
    open invoice each.

    With the default thresholds (LTV 500000, invoice 50000 minor units):
    - Hartmann & Co (EUR, Team · monthly): 14 paid invoices of 390,00 € → LTV 5.460,00 €, VIP
      by lifetime value;
    - Orbital Freight (USD, Enterprise · yearly): new customer, a $1,200.00 invoice → VIP by
      invoice amount;
    - Maya Chen (USD, English), Camille Dubois (EUR, fr-FR) and Haruto Sato (JPY, ¥4,900)
      are standard customers on Pro · monthly with a few small paid invoices each;
    - Jonas Becker (EUR, de-DE, Pro · yearly) is a standard annual subscriber: one paid year
      behind him, his 468,00 € renewal is open.
    Stripe does not retry the two annual invoices (Orbital's, Jonas's): dunbot's plan does.
    Emails are on example.com; see `DEMO_INVOICES` for the open invoice of each part.
    """
    sandbox = SandboxBilling(now=now)
    month = timedelta(days=30)
    year = timedelta(days=365)
    start = now()

    def subscribe(role: str, customer: str, amount: int, currency: str, since: timedelta) -> str:
        plan, interval = DEMO_SUBSCRIPTIONS[role]
        subscription = sandbox.add_subscription(
            id=f"sub_{DEMO_INVOICES[role].removeprefix('in_')}",
            customer=customer,
            plan=plan,
            interval="year" if interval == "year" else "month",
            amount=amount,
            currency=currency,
            created=start - since,
        )
        return str(subscription["id"])

    def open_invoice(
        role: str, customer: str, amount: int, currency: str, what: str, subscription: str
    ) -> None:
        sandbox.add_invoice(
            id=DEMO_INVOICES[role],
            customer=customer,
            amount_due=amount,
            currency=currency,
            description=what,
            created=start - timedelta(hours=1),
            due_date=start + timedelta(days=14),
            subscription=subscription,
            # Annual invoices are dunbot's to retry (its annual plan): Stripe's retries are off.
            stripe_retries=DEMO_SUBSCRIPTIONS[role][1] != "year",
        )

    hartmann = sandbox.add_customer(
        id="cus_sbxHartmannCo",
        name="Hartmann & Co",
        email="accounts@hartmann-co.example.com",
        preferred_locales=["de-DE"],
        currency="eur",
        created=start - 15 * month,
    )
    team = subscribe("vip_ltv", hartmann["id"], 39_000, "eur", 14 * month)
    sandbox.add_paid_invoices(
        customer=hartmann["id"],
        count=14,
        amount=39_000,
        currency="eur",
        description="Team plan",
        subscription=team,
    )
    open_invoice("vip_ltv", hartmann["id"], 39_000, "eur", "Team plan", team)

    orbital = sandbox.add_customer(
        id="cus_sbxOrbitalFrt",
        name="Orbital Freight Ltd",
        email="finance@orbital-freight.example.com",
        preferred_locales=["en-GB"],
        currency="usd",
        created=start - month,
    )
    enterprise = subscribe("vip_amount", orbital["id"], 120_000, "usd", timedelta(hours=2))
    open_invoice(
        "vip_amount", orbital["id"], 120_000, "usd", "Enterprise plan (annual seats)", enterprise
    )

    standard = [
        ("standard_en", "cus_sbxMayaChen01", "Maya Chen", "maya.chen", None, "usd", 4_900),
        (
            "standard_fr",
            "cus_sbxCamilleDub",
            "Camille Dubois",
            "camille.dubois",
            "fr-FR",
            "eur",
            2_900,
        ),
        ("standard_jpy", "cus_sbxHarutoSato", "Haruto Sato", "haruto.sato", "ja-JP", "jpy", 4_900),
    ]
    for role, customer_id, name, mailbox, locale, currency, amount in standard:
        customer = sandbox.add_customer(
            id=customer_id,
            name=name,
            email=f"{mailbox}@example.com",
            preferred_locales=[locale] if locale else [],
            currency=currency,
            created=start - 4 * month,
        )
        pro = subscribe(role, customer["id"], amount, currency, 3 * month)
        sandbox.add_paid_invoices(
            customer=customer["id"],
            count=3,
            amount=amount,
            currency=currency,
            description="Pro plan",
            subscription=pro,
        )
        open_invoice(role, customer["id"], amount, currency, "Pro plan", pro)

    jonas = sandbox.add_customer(
        id="cus_sbxJonasBeckr",
        name="Jonas Becker",
        email="jonas.becker@example.com",
        preferred_locales=["de-DE"],
        currency="eur",
        created=start - year - month,
    )
    pro_yearly = subscribe("standard_de", jonas["id"], 46_800, "eur", year)
    sandbox.add_paid_invoices(
        customer=jonas["id"],
        count=1,
        amount=46_800,
        currency="eur",
        every=year,
        description="Pro plan (yearly)",
        subscription=pro_yearly,
    )
    open_invoice("standard_de", jonas["id"], 46_800, "eur", "Pro plan (yearly)", pro_yearly)
    return sandbox
