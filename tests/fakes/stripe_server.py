"""A local fake of the Stripe API (the read endpoints dunbot uses), built from stripe-mock fixtures.

It serves real HTTP on 127.0.0.1 (a free port) from a background thread, so the official SDK,
a `dunbot` subprocess or a blocking test can all talk to it. Point a client at `base_url`
(no `/v1`, the way `StripeClient(base_addresses={"api": ...})` and `STRIPE_API_BASE` take it).

    async with FakeStripe() as stripe_api:          # or: with FakeStripe() as stripe_api
        cus = stripe_api.add_customer(email="ana@example.com", metadata={"dunbot_tier": "vip"})
        inv = stripe_api.add_invoice(customer=cus["id"], amount_due=4900, attempt_count=1)
        stripe_api.add_failed_payment(inv["id"], decline_code="insufficient_funds")
        stripe_api.fail_next(2, status=429, path_prefix="/v1/invoices")
        held = stripe_api.hold("/v1/invoices/in_1")  # answer only after release(held)
        ...                                           # run code against stripe_api.base_url
        await stripe_api.wait_for_requests(3, path_prefix="/v1/invoices")
        assert stripe_api.requests_to("/v1/invoices")[0].query["customer"] == cus["id"]

Objects start from the fixtures in `tests/fixtures/stripe/` (copied from `shared/fixtures`),
or from `$DUNBOT_FIXTURES_DIR/stripe/` when that variable is set. Lists are newest first and
paged with `limit` / `starting_after` in Stripe's list envelope (`has_more`, `url`).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import re
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.fixtures import load_json_fixture
from tests.fakes.threaded_http import ThreadedAiohttpServer

JsonObject = dict[str, Any]

DEFAULT_API_KEY = "sk_test_dunbot_fake"
_FIRST_CREATED = 1_700_000_000
_MAX_LIMIT = 100
_DEFAULT_LIMIT = 10


def load_fixture(name: str) -> JsonObject:
    """Load one fixture by file stem, e.g. `invoice` or `event_invoice.payment_failed`."""
    return load_json_fixture("stripe", name)


def _random_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


PAYMENT_EXPANSIONS = {"payments.data.payment.payment_intent", "payments.data.payment.charge"}
INVOICE_EXPANSIONS = {"customer", "payments", *PAYMENT_EXPANSIONS}
INCLUDED_PAYMENTS = 10  # an included list carries its first page, like Stripe's


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received (the Authorization header is never kept)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int


@dataclass
class _Fault:
    remaining: int
    status: int
    path_prefix: str
    should_retry: bool | None
    retry_after: int | None


@dataclass
class RequestHold:
    """Requests under `path_prefix` wait (already arrived, not yet answered) until released."""

    path_prefix: str
    after: bool = False  # True: the request is carried out first, only its answer waits
    arrived: threading.Event = field(default_factory=threading.Event)
    released: bool = False
    _waiting: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = field(
        default_factory=list
    )


@dataclass
class _State:
    customers: dict[str, JsonObject] = field(default_factory=dict)
    deleted_customers: set[str] = field(default_factory=set)
    invoices: dict[str, JsonObject] = field(default_factory=dict)
    invoice_payments: dict[str, JsonObject] = field(default_factory=dict)
    payment_intents: dict[str, JsonObject] = field(default_factory=dict)
    charges: dict[str, JsonObject] = field(default_factory=dict)
    refunds: dict[str, JsonObject] = field(default_factory=dict)
    early_fraud_warnings: dict[str, JsonObject] = field(default_factory=dict)
    idempotent: dict[tuple[str, str], tuple[int, JsonObject]] = field(default_factory=dict)
    portal_sessions: dict[str, JsonObject] = field(default_factory=dict)  # by idempotency key
    subscriptions: dict[str, JsonObject] = field(default_factory=dict)
    declines: dict[str, list[str]] = field(default_factory=dict)  # invoice → next decline codes


class _Unset:
    """Marker for 'argument not given' where None is a meaningful value."""


_UNSET = _Unset()


class StripeApiError(Exception):
    """Raised inside a handler to answer with a Stripe-shaped error body."""

    def __init__(
        self,
        status: int,
        *,
        message: str,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: JsonObject = {"error": {"message": message, "type": type_}}
        if code:
            self.body["error"]["code"] = code
            self.body["error"]["doc_url"] = f"https://stripe.com/docs/error-codes/{code}"
        if param:
            self.body["error"]["param"] = param
        self.headers = headers or {}


class FakeStripe(ThreadedAiohttpServer[RecordedRequest]):
    """In-memory Stripe with a real HTTP front; see the module docstring for usage."""

    thread_name = "fake-stripe"
    base_path = ""  # no `/v1`, as `STRIPE_API_BASE` and the SDK's base_addresses take it

    def __init__(self, *, api_key: str | None = DEFAULT_API_KEY) -> None:
        """`api_key`: the only bearer token accepted (None accepts any non-empty key)."""
        super().__init__()
        self.api_key = api_key
        self._state = _State()
        self._faults: list[_Fault] = []
        self._holds: list[RequestHold] = []
        self._clock = itertools.count(_FIRST_CREATED, 60)

    # -- lifecycle ---------------------------------------------------------------------------

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._handle)

    def _before_stop(self) -> None:
        for hold in list(self._holds):
            self.release(hold)

    # -- data helpers --------------------------------------------------------------------------

    def _next_created(self) -> int:
        return next(self._clock)

    def add_customer(
        self,
        *,
        id: str | None = None,
        email: str | None = None,
        name: str | None = None,
        preferred_locales: Iterable[str] = (),
        metadata: dict[str, str] | None = None,
        currency: str | None = "usd",
        created: int | None = None,
        **fields: Any,
    ) -> JsonObject:
        """Add a customer (the fixture customer with these fields) and return it."""
        customer = load_fixture("customer")
        customer.update(
            id=id or _random_id("cus"),
            email=email,
            name=name,
            preferred_locales=list(preferred_locales),
            metadata=dict(metadata or {}),
            currency=currency,
            created=created if created is not None else self._next_created(),
            discount=None,
        )
        customer.update(fields)
        with self._lock:
            self._state.customers[customer["id"]] = customer
            self._state.deleted_customers.discard(customer["id"])
        return copy.deepcopy(customer)

    def delete_customer(self, customer_id: str) -> None:
        """Mark a customer deleted: retrieve answers `{"id", "object", "deleted": true}`."""
        with self._lock:
            self._state.deleted_customers.add(customer_id)

    def add_invoice(
        self,
        *,
        customer: str,
        id: str | None = None,
        status: str = "open",
        currency: str = "usd",
        amount_due: int = 1000,
        amount_paid: int | None = None,
        amount_remaining: int | None = None,
        attempt_count: int = 0,
        next_payment_attempt: int | None = None,
        customer_email: str | None | _Unset = _UNSET,
        customer_name: str | None | _Unset = _UNSET,
        hosted_invoice_url: str | None | _Unset = _UNSET,
        number: str | None | _Unset = _UNSET,
        due_date: int | None = None,
        created: int | None = None,
        metadata: dict[str, str] | None = None,
        **fields: Any,
    ) -> JsonObject:
        """Add an invoice (the fixture invoice with these fields) and return it.

        Paid invoices default to `amount_paid = amount_due`; others to nothing paid.
        `customer_email` / `customer_name` default to the customer's, as Stripe copies them on
        finalisation; `number` and `hosted_invoice_url` get realistic values unless given.
        """
        invoice_id = id or _random_id("in")
        created_at = created if created is not None else self._next_created()
        if amount_paid is None:
            amount_paid = amount_due if status == "paid" else 0
        if amount_remaining is None:
            amount_remaining = 0 if status in {"paid", "void"} else amount_due - amount_paid
        with self._lock:
            owner = self._state.customers.get(customer, {})
        if isinstance(customer_email, _Unset):
            customer_email = owner.get("email")
        if isinstance(customer_name, _Unset):
            customer_name = owner.get("name")
        if isinstance(hosted_invoice_url, _Unset):
            hosted_invoice_url = f"https://invoice.stripe.com/i/acct_fake/{invoice_id}"
        if isinstance(number, _Unset):
            number = f"DUN-{created_at % 100000:05d}"
        invoice = load_fixture("invoice")
        line = invoice["lines"]["data"][0]
        line.update(amount=amount_due, currency=currency, invoice=invoice_id, subtotal=amount_due)
        invoice["lines"]["url"] = f"/v1/invoices/{invoice_id}/lines"
        invoice.update(
            id=invoice_id,
            customer=customer,
            status=status,
            currency=currency,
            amount_due=amount_due,
            amount_paid=amount_paid,
            amount_remaining=amount_remaining,
            amount_overpaid=0,
            subtotal=amount_due,
            subtotal_excluding_tax=amount_due,
            total=amount_due,
            total_excluding_tax=amount_due,
            shipping_cost=None,
            last_finalization_error=None,
            attempt_count=attempt_count,
            attempted=attempt_count > 0,
            next_payment_attempt=next_payment_attempt,
            customer_email=customer_email,
            customer_name=customer_name,
            hosted_invoice_url=hosted_invoice_url,
            number=number,
            due_date=due_date,
            created=created_at,
            effective_at=created_at,
            period_start=created_at,
            period_end=created_at,
            webhooks_delivered_at=created_at,
            metadata=dict(metadata or {}),
            status_transitions={
                "finalized_at": created_at if status != "draft" else None,
                "marked_uncollectible_at": created_at if status == "uncollectible" else None,
                "paid_at": created_at if status == "paid" else None,
                "voided_at": created_at if status == "void" else None,
            },
        )
        invoice.update(fields)
        with self._lock:
            self._state.invoices[invoice_id] = invoice
        return copy.deepcopy(invoice)

    def update_invoice(self, invoice_id: str, **fields: Any) -> JsonObject:
        """Change fields of a stored invoice (e.g. mark it paid) and return it."""
        with self._lock:
            invoice = self._state.invoices[invoice_id]
            invoice.update(fields)
            return copy.deepcopy(invoice)

    def add_paid_invoices(
        self, *, customer: str, count: int, amount: int, currency: str = "usd"
    ) -> list[JsonObject]:
        """Add `count` paid invoices of `amount` each (lifetime value fodder)."""
        return [
            self.add_invoice(customer=customer, status="paid", amount_due=amount, currency=currency)
            for _ in range(count)
        ]

    def add_payment_intent(
        self,
        *,
        id: str | None = None,
        amount: int = 1000,
        currency: str = "usd",
        customer: str | None = None,
        status: str = "requires_payment_method",
        last_payment_error: JsonObject | None = None,
        latest_charge: str | None = None,
        created: int | None = None,
        **fields: Any,
    ) -> JsonObject:
        """Add a payment intent (the fixture one with these fields) and return it."""
        intent_id = id or _random_id("pi")
        intent = load_fixture("payment_intent")
        intent.update(
            id=intent_id,
            amount=amount,
            currency=currency,
            customer=customer,
            status=status,
            last_payment_error=last_payment_error,
            latest_charge=latest_charge,
            client_secret=f"{intent_id}_secret_{secrets.token_hex(8)}",
            created=created if created is not None else self._next_created(),
            canceled_at=None,
            next_action=None,
        )
        intent.update(fields)
        with self._lock:
            self._state.payment_intents[intent_id] = intent
        return copy.deepcopy(intent)

    def add_charge(
        self,
        *,
        id: str | None = None,
        amount: int = 1000,
        currency: str = "usd",
        customer: str | None = None,
        payment_intent: str | None = None,
        failure_code: str | None = None,
        failure_message: str | None = None,
        outcome: JsonObject | None = None,
        **fields: Any,
    ) -> JsonObject:
        """Add a charge (the fixture one with these fields) and return it."""
        charge = load_fixture("charge")
        failed = failure_code is not None
        charge.update(
            id=id or _random_id("ch"),
            amount=amount,
            currency=currency,
            customer=customer,
            payment_intent=payment_intent,
            failure_code=failure_code,
            failure_message=failure_message,
            paid=not failed,
            status="failed" if failed else "succeeded",
            created=self._next_created(),
        )
        if outcome is not None:
            charge["outcome"] = outcome
        charge.update(fields)
        with self._lock:
            self._state.charges[charge["id"]] = charge
        return copy.deepcopy(charge)

    def add_early_fraud_warning(
        self, *, charge: str, payment_intent: str | None = None, fraud_type: str = "misc"
    ) -> JsonObject:
        """Add a Radar early fraud warning about a charge and return it."""
        warning = load_json_fixture("stripe", "early_fraud_warning")
        warning.update(
            id=_random_id("issfr"),
            charge=charge,
            payment_intent=payment_intent,
            fraud_type=fraud_type,
            created=self._next_created(),
        )
        with self._lock:
            self._state.early_fraud_warnings[warning["id"]] = warning
        return copy.deepcopy(warning)

    @property
    def refunds(self) -> list[JsonObject]:
        """Every refund created, oldest first."""
        with self._lock:
            return copy.deepcopy(list(self._state.refunds.values()))

    def customer(self, customer_id: str) -> JsonObject:
        """The customer as stored now (metadata updates included)."""
        with self._lock:
            return copy.deepcopy(self._state.customers[customer_id])

    def charge(self, charge_id: str) -> JsonObject:
        with self._lock:
            return copy.deepcopy(self._state.charges[charge_id])

    def add_invoice_payment(
        self,
        *,
        invoice_id: str,
        payment_intent: str | None = None,
        charge: str | None = None,
        status: str = "open",
        amount_requested: int | None = None,
        amount_paid: int | None = None,
        is_default: bool = True,
        created: int | None = None,
    ) -> JsonObject:
        """Add an invoice payment linking an invoice to a payment intent or a charge.

        stripe-mock has no fixture for it: the shape follows stripe-python's `InvoicePayment`.
        """
        with self._lock:
            invoice = self._state.invoices[invoice_id]
            if is_default:
                for other in self._state.invoice_payments.values():
                    if other["invoice"] == invoice_id:
                        other["is_default"] = False
        created_at = created if created is not None else self._next_created()
        if amount_paid is None and status == "paid":
            amount_paid = invoice["amount_due"]
        if amount_requested is None:
            amount_requested = invoice["amount_remaining"] or invoice["amount_due"]
        payment: JsonObject
        if payment_intent is not None:
            payment = {"type": "payment_intent", "payment_intent": payment_intent}
        else:
            payment = {"type": "charge", "charge": charge}
        record: JsonObject = {
            "id": _random_id("inpay"),
            "object": "invoice_payment",
            "amount_paid": amount_paid,
            "amount_requested": amount_requested,
            "created": created_at,
            "currency": invoice["currency"],
            "invoice": invoice_id,
            "is_default": is_default,
            "livemode": False,
            "payment": payment,
            "status": status,
            "status_transitions": {
                "canceled_at": created_at if status == "canceled" else None,
                "paid_at": created_at if status == "paid" else None,
            },
        }
        with self._lock:
            self._state.invoice_payments[record["id"]] = record
        return copy.deepcopy(record)

    def add_failed_payment(
        self,
        invoice_id: str,
        *,
        decline_code: str | None = "generic_decline",
        code: str | None = "card_declined",
        advice_code: str | None = None,
        message: str | None = "Your card was declined.",
    ) -> JsonObject:
        """Record a failed attempt on an invoice: a payment intent whose `last_payment_error`
        carries these codes, linked through an invoice payment. Returns the payment intent."""
        with self._lock:
            invoice = copy.deepcopy(self._state.invoices[invoice_id])
        error: JsonObject = {"type": "card_error", "code": code, "message": message}
        if decline_code is not None:
            error["decline_code"] = decline_code
        if advice_code is not None:
            error["advice_code"] = advice_code
        charge = self.add_charge(
            amount=invoice["amount_remaining"],
            currency=invoice["currency"],
            customer=invoice["customer"],
            failure_code=code,
            failure_message=message,
            outcome={
                "advice_code": advice_code,
                "network_advice_code": None,
                "network_decline_code": None,
                "network_status": "declined_by_network",
                "reason": decline_code,
                "risk_level": "normal",
                "seller_message": "The bank did not return any further details with this decline.",
                "type": "issuer_declined",
            },
        )
        error["charge"] = charge["id"]
        intent = self.add_payment_intent(
            amount=invoice["amount_remaining"],
            currency=invoice["currency"],
            customer=invoice["customer"],
            last_payment_error=error,
            latest_charge=charge["id"],
        )
        with self._lock:
            self._state.charges[charge["id"]]["payment_intent"] = intent["id"]
        self.add_invoice_payment(invoice_id=invoice_id, payment_intent=intent["id"])
        return intent

    # -- faults and recorded requests -------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 500,
        path_prefix: str = "/v1/",
        should_retry: bool | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next `n` requests under `path_prefix` with a Stripe error of `status`.

        429 is Stripe's rate-limit error (`code: rate_limit`), anything else an `api_error`.
        `should_retry` sets the `Stripe-Should-Retry` header (the SDK retries a 429 only when
        it says `true`, and retries 5xx unless it says `false`); `retry_after` sets
        `Retry-After` in seconds.
        """
        with self._lock:
            self._faults.append(_Fault(n, status, path_prefix, should_retry, retry_after))

    def hold(self, path_prefix: str, *, after: bool = False) -> RequestHold:
        """Hold every request under `path_prefix` until `release`: it arrives, then waits.

        `hold.arrived` (a threading.Event) is set when the first one arrives, so a test can
        act while a client is stuck mid-request (e.g. kill the process that sent it).
        `after=True` carries the request out first (a refund is made) and holds its answer.
        """
        hold = RequestHold(path_prefix, after=after)
        with self._lock:
            self._holds.append(hold)
        return hold

    def release(self, hold: RequestHold) -> None:
        """Answer the held requests and stop holding."""
        with self._lock:
            hold.released = True
            if hold in self._holds:
                self._holds.remove(hold)
            waiting, hold._waiting = hold._waiting, []
        for loop, future in waiting:
            loop.call_soon_threadsafe(_resolve_hold, future)

    async def _wait_if_held(self, path: str, *, after: bool = False) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            hold = next(
                (h for h in self._holds if path.startswith(h.path_prefix) and h.after == after),
                None,
            )
            if hold is None:
                return
            hold._waiting.append((loop, future))
            hold.arrived.set()
        await future

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first."""
        return self._matching(lambda _request: True)

    def requests_to(self, path_prefix: str, method: str = "GET") -> list[RecordedRequest]:
        """Received requests whose path starts with `path_prefix` (query string excluded)."""
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def clear_requests(self) -> None:
        """Forget the requests received so far."""
        with self._lock:
            self._recorded.clear()

    async def wait_for_requests(
        self, count: int, *, path_prefix: str = "/v1/", timeout: float = 5.0
    ) -> list[RecordedRequest]:
        """Wait (no polling) until at least `count` requests under `path_prefix` arrived."""
        return await self._wait_for(lambda r: r.path.startswith(path_prefix), count, timeout)

    def wait_for_requests_sync(
        self, count: int, *, path_prefix: str = "/v1/", timeout: float = 5.0
    ) -> list[RecordedRequest]:
        """Blocking twin of `wait_for_requests`, for threads and subprocess-driven tests."""
        return self._wait_for_sync(
            lambda r: r.path.startswith(path_prefix),
            count,
            timeout,
            describe=lambda: f"fewer than {count} requests to {path_prefix}",
        )

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and path.startswith(fault.path_prefix):
                    fault.remaining -= 1
                    return fault
            self._faults = [f for f in self._faults if f.remaining > 0]
        return None

    # -- HTTP -----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        query = {key: ",".join(request.query.getall(key)) for key in request.query}
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        request_id = _random_id("req")
        try:
            self._authorise(request.headers.get("Authorization", ""))
            await self._wait_if_held(request.path)
            fault = self._take_fault(request.path)
            if fault is not None:
                raise _fault_error(fault)
            extra: dict[str, str] = {}
            if request.method in ("POST", "DELETE"):
                form = await request.post()
                query = {**query, **{key: str(value) for key, value in form.items()}}
                key = request.headers.get("Idempotency-Key")
                query["__idempotency_key"] = key or ""
                target = request.path if request.method == "POST" else f"DELETE {request.path}"
                status, body, replayed = self._post(target, query, key)
                if replayed:
                    extra["Idempotent-Replayed"] = "true"
            else:
                status, body = 200, self._route(request.method, request.path, query)
            await self._wait_if_held(request.path, after=True)
        except StripeApiError as exc:
            status, body, extra = exc.status, exc.body, exc.headers
        self._record(RecordedRequest(request.method, request.path, query, headers, status))
        response_headers = {"Request-Id": request_id, **extra}
        version = request.headers.get("Stripe-Version")
        if version:
            response_headers["Stripe-Version"] = version
        return web.json_response(body, status=status, headers=response_headers)

    def _authorise(self, header: str) -> None:
        token = header.removeprefix("Bearer ").strip()
        if not token or (self.api_key is not None and token != self.api_key):
            raise StripeApiError(
                401,
                message="Invalid API Key provided: " + (token[:8] + "*" * 4 if token else ""),
            )

    def _route(self, method: str, path: str, query: dict[str, str]) -> JsonObject:
        routes = {"GET": self._routes, "POST": self._post_routes}.get(method)
        if routes is None:
            raise _unrecognised(method, path)
        with self._lock:
            for pattern, handler in routes():
                match = re.fullmatch(pattern, path)
                if match:
                    return copy.deepcopy(handler(query, *match.groups()))
        raise _unrecognised(method, path)

    def _post(
        self, path: str, form: dict[str, str], key: str | None
    ) -> tuple[int, JsonObject, bool]:
        """A write. The same Idempotency-Key on the same path replays the first answer."""
        with self._lock:
            if key is not None and (path, key) in self._state.idempotent:
                status, body = self._state.idempotent[(path, key)]
                return status, copy.deepcopy(body), True
            try:
                status, body = 200, self._write(path, form)
            except StripeApiError as exc:
                status, body = exc.status, exc.body
            if key is not None and status < 500:
                self._state.idempotent[(path, key)] = (status, copy.deepcopy(body))
            return status, copy.deepcopy(body), False

    def _write(self, path: str, form: dict[str, str]) -> JsonObject:
        if path.startswith("DELETE "):
            match = re.fullmatch(r"DELETE /v1/subscriptions/([^/]+)", path)
            if match:
                return self._cancel_subscription(form, match.group(1))
            raise _unrecognised("DELETE", path.removeprefix("DELETE "))
        if path == "/v1/refunds":
            return self._create_refund(form)
        match = re.fullmatch(r"/v1/customers/([^/]+)", path)
        if match:
            return self._update_customer(match.group(1), form)
        for pattern, handler in self._post_routes():
            found = re.fullmatch(pattern, path)
            if found:
                return handler(form, *found.groups())
        raise _unrecognised("POST", path)

    def _create_refund(self, form: dict[str, str]) -> JsonObject:
        charge = self._state.charges.get(form.get("charge", ""))
        if charge is None:
            raise StripeApiError(
                404, message=f"No such charge: '{form.get('charge')}'", code="resource_missing"
            )
        remaining = int(charge["amount"]) - int(charge.get("amount_refunded") or 0)
        amount = int(form.get("amount") or remaining)
        if remaining <= 0 or amount > remaining:
            raise StripeApiError(
                400,
                message=f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        refund = {
            "id": _random_id("re"),
            "object": "refund",
            "amount": amount,
            "charge": charge["id"],
            "currency": charge["currency"],
            "payment_intent": charge.get("payment_intent"),
            "reason": form.get("reason"),
            "status": "succeeded",
            "created": self._next_created(),
            "metadata": {},
        }
        self._state.refunds[refund["id"]] = refund
        charge["amount_refunded"] = int(charge.get("amount_refunded") or 0) + amount
        charge["refunded"] = charge["amount_refunded"] >= int(charge["amount"])
        return refund

    def _update_customer(self, customer_id: str, form: dict[str, str]) -> JsonObject:
        customer = _lookup(self._state.customers, customer_id, "customer")
        for name, value in form.items():
            found = re.fullmatch(r"metadata\[([^\]]+)\]", name)
            if found:
                if value == "":
                    customer.setdefault("metadata", {}).pop(found.group(1), None)
                else:
                    customer.setdefault("metadata", {})[found.group(1)] = value
            elif name in ("email", "name", "description", "phone"):
                customer[name] = value
        return customer

    def _get_early_fraud_warning(self, query: dict[str, str], warning_id: str) -> JsonObject:
        return _lookup(self._state.early_fraud_warnings, warning_id, "radar.early_fraud_warning")

    def _get_subscription(self, query: dict[str, str], subscription_id: str) -> JsonObject:
        return _lookup(self._state.subscriptions, subscription_id, "subscription")

    def _get_refund(self, query: dict[str, str], refund_id: str) -> JsonObject:
        return _lookup(self._state.refunds, refund_id, "refund")

    def _routes(self) -> list[tuple[str, Callable[..., JsonObject]]]:
        return [
            (r"/v1/customers/search", self._search_customers),
            (r"/v1/customers", self._list_customers),
            (r"/v1/customers/([^/]+)", self._get_customer),
            (r"/v1/invoices", self._list_invoices),
            (r"/v1/invoices/([^/]+)", self._get_invoice),
            (r"/v1/invoice_payments", self._list_invoice_payments),
            (r"/v1/invoice_payments/([^/]+)", self._get_invoice_payment),
            (r"/v1/payment_intents/([^/]+)", self._get_payment_intent),
            (r"/v1/charges/([^/]+)", self._get_charge),
            (r"/v1/refunds/([^/]+)", self._get_refund),
            (r"/v1/subscriptions/([^/]+)", self._get_subscription),
            (r"/v1/radar/early_fraud_warnings/([^/]+)", self._get_early_fraud_warning),
        ]

    def _post_routes(self) -> list[tuple[str, Callable[..., JsonObject]]]:
        return [
            (r"/v1/billing_portal/sessions", self._create_portal_session),
            (r"/v1/invoices/([^/]+)/pay", self._pay_invoice),
            (r"/v1/invoices/([^/]+)/mark_uncollectible", self._mark_uncollectible),
            (r"/v1/invoices/([^/]+)/void", self._void_invoice),
            (r"/v1/subscriptions/([^/]+)", self._update_subscription),
        ]

    # -- billing writes: pay, mark uncollectible, subscriptions --------------------------------

    def add_subscription(
        self,
        *,
        customer: str,
        id: str | None = None,
        interval: str = "month",
        status: str = "active",
        nickname: str | None = None,
        metadata: dict[str, str] | None = None,
        **fields: Any,
    ) -> JsonObject:
        """Add a subscription (the fixture's, one item) and return it."""
        subscription = load_fixture("subscription")
        price = subscription["items"]["data"][0]["price"]
        price["recurring"]["interval"] = interval
        price["nickname"] = nickname
        subscription.update(
            id=id or _random_id("sub"),
            customer=customer,
            status=status,
            metadata=dict(metadata or {}),
            cancel_at_period_end=False,
            canceled_at=None,
            ended_at=None,
            cancellation_details={"comment": None, "feedback": None, "reason": None},
        )
        subscription.update(fields)
        with self._lock:
            self._state.subscriptions[subscription["id"]] = subscription
        return copy.deepcopy(subscription)

    def invoices_attempts(self, invoice_id: str) -> int:
        """How many payment attempts the invoice has had (`attempt_count`)."""
        with self._lock:
            return int(self._state.invoices[invoice_id].get("attempt_count") or 0)

    def subscription(self, subscription_id: str) -> JsonObject:
        with self._lock:
            return copy.deepcopy(self._state.subscriptions[subscription_id])

    def decline_next_payments(
        self, invoice_id: str, *, count: int = 1, code: str = "card_declined"
    ) -> None:
        """The next `count` `POST /v1/invoices/{id}/pay` are declined with `code`."""
        with self._lock:
            self._state.declines.setdefault(invoice_id, []).extend([code] * count)

    def _pay_invoice(self, form: dict[str, str], invoice_id: str) -> JsonObject:
        invoice = _lookup(self._state.invoices, invoice_id, "invoice")
        if invoice["status"] == "paid":
            raise StripeApiError(
                400, message="Invoice is already paid", code="invoice_already_paid"
            )
        if invoice["status"] != "open":
            raise StripeApiError(
                400,
                message=f"You can only pay an open invoice; this one is {invoice['status']}.",
                code="invoice_not_open",
            )
        invoice["attempt_count"] = int(invoice.get("attempt_count") or 0) + 1
        invoice["attempted"] = True
        declines = self._state.declines.get(invoice_id) or []
        if declines:
            error = StripeApiError(
                402, message="Your card was declined.", type_="card_error", code="card_declined"
            )
            error.body["error"]["decline_code"] = declines.pop(0)
            raise error
        invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0)
        invoice["status_transitions"]["paid_at"] = self._next_created()
        return invoice

    def _mark_uncollectible(self, form: dict[str, str], invoice_id: str) -> JsonObject:
        invoice = _lookup(self._state.invoices, invoice_id, "invoice")
        if invoice["status"] != "open":
            raise StripeApiError(
                400,
                message=f"You can only mark an open invoice uncollectible; this one is "
                f"{invoice['status']}.",
                code="invoice_not_open",
            )
        invoice["status"] = "uncollectible"
        invoice["status_transitions"]["marked_uncollectible_at"] = self._next_created()
        return invoice

    def _void_invoice(self, form: dict[str, str], invoice_id: str) -> JsonObject:
        invoice = _lookup(self._state.invoices, invoice_id, "invoice")
        if invoice["status"] != "open":
            raise StripeApiError(
                400,
                message=f"You can only void an open invoice; this one is {invoice['status']}.",
                code="invoice_not_open",
            )
        invoice.update(status="void", amount_remaining=0)
        invoice["status_transitions"]["voided_at"] = self._next_created()
        return invoice

    def _update_subscription(self, form: dict[str, str], subscription_id: str) -> JsonObject:
        subscription = _lookup(self._state.subscriptions, subscription_id, "subscription")
        if subscription["status"] == "canceled":
            raise StripeApiError(
                400,
                message="A canceled subscription can only update its cancellation_details "
                "and metadata.",
            )
        if "cancel_at_period_end" in form:
            subscription["cancel_at_period_end"] = form["cancel_at_period_end"] == "true"
        for name, value in form.items():
            found = re.fullmatch(r"metadata\[([^\]]+)\]", name)
            if found:
                subscription.setdefault("metadata", {})[found.group(1)] = value
        return subscription

    def _cancel_subscription(self, form: dict[str, str], subscription_id: str) -> JsonObject:
        subscription = _lookup(self._state.subscriptions, subscription_id, "subscription")
        if subscription["status"] == "canceled":
            raise StripeApiError(
                400,
                message=f"No such subscription: '{subscription_id}' is already canceled",
                code="resource_missing",
            )
        now = self._next_created()
        subscription.update(status="canceled", canceled_at=now, ended_at=now)
        return subscription

    def _create_portal_session(self, query: dict[str, str]) -> JsonObject:
        """A customer portal session, as `POST /v1/billing_portal/sessions` answers."""
        customer = query.get("customer", "")
        if customer not in self._state.customers or customer in self._state.deleted_customers:
            raise StripeApiError(
                400, message=f"No such customer: '{customer}'", code="resource_missing",
                param="customer",
            )  # fmt: skip
        key = query.get("__idempotency_key") or _random_id("idem")
        if key in self._state.portal_sessions:
            return self._state.portal_sessions[key]
        session_id = _random_id("bps")
        session = {
            "id": session_id,
            "object": "billing_portal.session",
            "configuration": "bpc_fake",
            "created": self._next_created(),
            "customer": customer,
            "livemode": False,
            "locale": None,
            "on_behalf_of": None,
            "return_url": query.get("return_url"),
            "url": f"https://billing.stripe.com/p/session/test_{session_id}",
        }
        self._state.portal_sessions[key] = session
        return session

    def portal_sessions(self) -> list[JsonObject]:
        """Every portal session created, oldest first."""
        with self._lock:
            return copy.deepcopy(list(self._state.portal_sessions.values()))

    def _get_customer(self, query: dict[str, str], customer_id: str) -> JsonObject:
        if customer_id in self._state.deleted_customers:
            return {"id": customer_id, "object": "customer", "deleted": True}
        return _lookup(self._state.customers, customer_id, "customer")

    def _live_customers(self) -> list[JsonObject]:
        return [
            c
            for c in self._state.customers.values()
            if c["id"] not in self._state.deleted_customers
        ]

    def _list_customers(self, query: dict[str, str]) -> JsonObject:
        items = self._live_customers()
        if "email" in query:
            items = [c for c in items if c.get("email") == query["email"]]
        return _page(items, query, url="/v1/customers")

    def _search_customers(self, query: dict[str, str]) -> JsonObject:
        clauses = _parse_search(query.get("query", ""))
        items = [c for c in self._live_customers() if all(m(c) for m in clauses)]
        items = _newest_first(items)
        limit = _limit(query)
        return {
            "object": "search_result",
            "data": items[:limit],
            "has_more": len(items) > limit,
            "next_page": None,
            "url": "/v1/customers/search",
        }

    def _get_invoice(self, query: dict[str, str], invoice_id: str) -> JsonObject:
        """An invoice; `expand[]` of customer, payments, payments.data.payment.payment_intent
        (and .charge) as Stripe does: the ids become the objects, `payments` an included list."""
        invoice = copy.deepcopy(_lookup(self._state.invoices, invoice_id, "invoice"))
        expand = {value for key, value in query.items() if key.startswith("expand")}
        unknown = expand - INVOICE_EXPANSIONS
        if unknown:
            raise StripeApiError(
                400, message=f"This property cannot be expanded ({sorted(unknown)[0]})."
            )
        if "customer" in expand and isinstance(invoice.get("customer"), str):
            invoice["customer"] = self._get_customer({}, invoice["customer"])
        if expand & {"payments", *PAYMENT_EXPANSIONS}:
            payments = [
                copy.deepcopy(p)
                for p in self._state.invoice_payments.values()
                if p["invoice"] == invoice_id
            ]
            for payment in payments:
                inner = payment["payment"]
                for field_name, table in (
                    ("payment_intent", self._state.payment_intents),
                    ("charge", self._state.charges),
                ):
                    wanted = f"payments.data.payment.{field_name}" in expand
                    if wanted and inner.get(field_name) in table:  # a dangling id stays an id
                        inner[field_name] = table[inner[field_name]]
            listed = _newest_first(payments)
            invoice["payments"] = {
                "object": "list",
                "data": listed[:INCLUDED_PAYMENTS],
                "has_more": len(listed) > INCLUDED_PAYMENTS,
                "url": f"/v1/invoice_payments?invoice={invoice_id}",
            }
        return invoice

    def _list_invoices(self, query: dict[str, str]) -> JsonObject:
        items = list(self._state.invoices.values())
        for key in ("customer", "status", "subscription", "collection_method"):
            if key in query:
                items = [i for i in items if i.get(key) == query[key]]
        for op, test in (("lt", int.__lt__), ("lte", int.__le__), ("gt", int.__gt__)):
            bound = query.get(f"due_date[{op}]")
            if bound is not None:
                items = [
                    i for i in items if i.get("due_date") is not None
                    and test(int(i["due_date"]), int(bound))
                ]  # fmt: skip
        return _page(items, query, url="/v1/invoices")

    def _list_invoice_payments(self, query: dict[str, str]) -> JsonObject:
        items = list(self._state.invoice_payments.values())
        for key in ("invoice", "status"):
            if key in query:
                items = [p for p in items if p.get(key) == query[key]]
        return _page(items, query, url="/v1/invoice_payments")

    def _get_invoice_payment(self, query: dict[str, str], payment_id: str) -> JsonObject:
        return _lookup(self._state.invoice_payments, payment_id, "invoice_payment")

    def _get_payment_intent(self, query: dict[str, str], intent_id: str) -> JsonObject:
        return _lookup(self._state.payment_intents, intent_id, "payment_intent")

    def _get_charge(self, query: dict[str, str], charge_id: str) -> JsonObject:
        return _lookup(self._state.charges, charge_id, "charge")


def _resolve_hold(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _lookup(table: dict[str, JsonObject], object_id: str, kind: str) -> JsonObject:
    try:
        return table[object_id]
    except KeyError:
        raise StripeApiError(
            404,
            message=f"No such {kind}: '{object_id}'",
            code="resource_missing",
            param="id",
        ) from None


def _unrecognised(method: str, path: str) -> StripeApiError:
    return StripeApiError(404, message=f"Unrecognized request URL ({method}: {path}).")


def _fault_error(fault: _Fault) -> StripeApiError:
    headers: dict[str, str] = {}
    if fault.should_retry is not None:
        headers["Stripe-Should-Retry"] = "true" if fault.should_retry else "false"
    if fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    if fault.status == 429:
        return StripeApiError(
            429,
            message="Request rate limit exceeded. Learn more about rate limits here "
            "https://stripe.com/docs/rate-limits.",
            code="rate_limit",
            headers=headers,
        )
    return StripeApiError(
        fault.status,
        message="An unknown error occurred",
        type_="api_error",
        headers=headers,
    )


def _newest_first(items: list[JsonObject]) -> list[JsonObject]:
    """Newest first; among equal `created`, the later added first (as Stripe's ids order)."""
    ranked = sorted(enumerate(items), key=lambda p: (p[1].get("created") or 0, p[0]), reverse=True)
    return [item for _, item in ranked]


def _limit(query: dict[str, str]) -> int:
    try:
        limit = int(query.get("limit", _DEFAULT_LIMIT))
    except ValueError:
        raise StripeApiError(400, message="Invalid integer: limit", param="limit") from None
    if not 1 <= limit <= _MAX_LIMIT:
        raise StripeApiError(400, message="This value must be between 1 and 100.", param="limit")
    return limit


def _page(items: list[JsonObject], query: dict[str, str], *, url: str) -> JsonObject:
    """Stripe's list envelope over `items`, newest first, honouring limit/starting_after."""
    ordered = _newest_first(items)
    after = query.get("starting_after")
    if after:
        ids = [item["id"] for item in ordered]
        if after not in ids:
            raise StripeApiError(
                400,
                message=f"No such object: '{after}'",
                code="resource_missing",
                param="starting_after",
            )
        ordered = ordered[ids.index(after) + 1 :]
    limit = _limit(query)
    return {"object": "list", "data": ordered[:limit], "has_more": len(ordered) > limit, "url": url}


_SEARCH_CLAUSE = re.compile(r"""\s*(\w+)(?:\['([^']+)'\])?\s*:\s*['"]([^'"]*)['"]\s*""")


def _parse_search(text: str) -> list[Callable[[JsonObject], bool]]:
    """A tiny subset of Stripe's search language: `field:'v' AND metadata['k']:'v'`."""
    matchers: list[Callable[[JsonObject], bool]] = []
    for clause in re.split(r"\s+AND\s+", text.strip()) if text.strip() else []:
        match = _SEARCH_CLAUSE.fullmatch(clause)
        if not match:
            raise StripeApiError(400, message=f"Invalid search query: {text}", param="query")
        name, key, value = match.groups()
        if name == "metadata" and key:
            matchers.append(_metadata_matcher(key, value))
        else:
            matchers.append(_field_matcher(name, value))
    return matchers


def _metadata_matcher(key: str, value: str) -> Callable[[JsonObject], bool]:
    return lambda obj: obj.get("metadata", {}).get(key) == value


def _field_matcher(name: str, value: str) -> Callable[[JsonObject], bool]:
    return lambda obj: str(obj.get(name) or "").lower() == value.lower()
