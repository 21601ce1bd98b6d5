"""The BillingReader protocol on Stripe, through the official SDK's async methods.

    billing = StripeBilling.connect(api_key=key, api_base=settings.stripe_api_base)
    invoice = await billing.get_invoice("in_…")
    await billing.aclose()

Stripe failures become the protocol's errors: rate limits (429), server errors (5xx), conflicts
and network trouble raise `BillingError` (worth retrying later; the SDK has already retried as
far as `max_network_retries` allows), a missing object raises `NotFoundError`, and a rejected key
raises `BillingAuthError` (a `BillingError` that says to check STRIPE_API_KEY). The API key is
never logged nor put in an error message.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import stripe
from stripe import RequestOptions, StripeClient
from stripe.params import InvoiceListParams, RefundCreateParams
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from recovery.customers.facts import InvoiceRecord
from recovery.customers.records import invoice_record
from recovery.domain import CustomerSnapshot, DeclineInfo, InvoiceSnapshot
from recovery.protocols import BillingError, NotFoundError, PaymentDeclined
from recovery.snapshots import (
    customer_snapshot,
    decline_from_charge,
    decline_from_error,
    invoice_snapshot,
    object_id,
)

logger = logging.getLogger(__name__)

_PAGE_SIZE = 100
_DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_READ_CONCURRENCY = 8
RATE_LIMIT_ATTEMPTS = 4
# A Retry-After longer than this is not waited for in-process: the job retries later instead.
MAX_IN_PROCESS_WAIT_S = 10.0
# What a failure needs besides the invoice, in the same request.
FAILURE_EXPANSIONS = ["customer", "payments.data.payment.payment_intent"]

JsonObject = dict[str, Any]


class BillingAuthError(BillingError):
    """Stripe rejected the API key or its permissions: check STRIPE_API_KEY."""


def create_stripe_client(
    api_key: str,
    api_base: str | None = None,
    max_network_retries: int = 2,
    *,
    http_client: stripe.HTTPClient | None = None,
) -> StripeClient:
    """A StripeClient for `api_key`, aimed at `api_base` (STRIPE_API_BASE) when given.

    `api_base` is a base address without `/v1` (e.g. `http://127.0.0.1:12111`); a trailing
    `/v1` is tolerated and dropped. None or empty means Stripe's own API.
    """
    base = (api_base or "").strip().rstrip("/").removesuffix("/v1")
    return StripeClient(
        api_key,
        base_addresses={"api": base} if base else None,
        max_network_retries=max_network_retries,
        http_client=http_client,
    )


_backoff = wait_exponential_jitter(multiplier=0.5, max=MAX_IN_PROCESS_WAIT_S)


def _wait_for_rate_limit(state: RetryCallState) -> float:
    """Stripe's Retry-After when it sent one, else exponential backoff with jitter."""
    error = state.outcome.exception() if state.outcome else None
    headers = getattr(error, "headers", None) or {}
    retry_after = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return min(float(str(retry_after)), MAX_IN_PROCESS_WAIT_S)
    except ValueError:  # absent ("None") or not a number
        return _backoff(state)


def _rate_limit_retries() -> AsyncRetrying:
    """Retry one read on 429 a few times (honouring Retry-After), then let the error out."""
    return AsyncRetrying(
        retry=retry_if_exception_type(stripe.RateLimitError),
        wait=_wait_for_rate_limit,
        stop=stop_after_attempt(RATE_LIMIT_ATTEMPTS),
        reraise=True,
    )


@asynccontextmanager
async def _stripe_call(what: str) -> AsyncIterator[None]:
    """Turn SDK errors raised inside into BillingError / NotFoundError, naming `what`."""
    try:
        yield
    except stripe.RateLimitError as exc:
        raise BillingError(f"Stripe rate limit while reading {what}") from exc
    except stripe.APIConnectionError as exc:
        raise BillingError(f"could not reach Stripe while reading {what}") from exc
    except (stripe.AuthenticationError, stripe.PermissionError) as exc:
        raise BillingAuthError(
            f"Stripe refused the API key while reading {what} (HTTP {exc.http_status}); "
            "check STRIPE_API_KEY"
        ) from exc
    except stripe.StripeError as exc:
        status = exc.http_status
        if status == 404:
            raise NotFoundError(f"{what} not found in Stripe") from exc
        if status is None or status >= 500 or status == 409:
            raise BillingError(
                f"Stripe error {status} while reading {what} (request {exc.request_id})"
            ) from exc
        raise


MAX_SWEPT_INVOICES = 10_000


@asynccontextmanager
async def _refused(what: str) -> AsyncIterator[None]:
    """A write Stripe refuses (400: wrong state) as a BillingError saying why."""
    try:
        yield
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            raise
        raise BillingError(f"Stripe refused to {what}: {exc.user_message or exc.code}") from exc


class StripeBilling:
    """`recovery.protocols.Billing` on a `StripeClient` (async SDK methods only)."""

    def __init__(
        self,
        client: StripeClient,
        *,
        http_client: stripe.HTTPClient | None = None,
        read_concurrency: int = DEFAULT_READ_CONCURRENCY,
    ) -> None:
        """Wrap `client`; `http_client`, if given, is the one `aclose()` closes."""
        self._client = client
        self._http_client = http_client
        # Stripe's read limit is per account (lower in test mode): bound requests in flight.
        self._slots = asyncio.Semaphore(read_concurrency)

    async def _read(self, what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
        """One SDK read: bounded concurrency, 429 retried in-process, errors mapped."""
        async with _stripe_call(what):
            async for attempt in _rate_limit_retries():
                with attempt:
                    async with self._slots:
                        return await call(*args, **kwargs)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _get_json(self, what: str, path: str, **params: Any) -> JsonObject:
        """One GET through the SDK's `raw_request_async` (its retries, errors and request
        logging), as plain JSON: the hot reads map JSON anyway, so building a tree of
        StripeObjects only to turn it back into dicts was most of a read's CPU."""
        response = await self._read(what, self._client.raw_request_async, "get", path, **params)
        data = response.data
        if not isinstance(data, dict):
            raise BillingError(f"Stripe sent something other than an object for {what}")
        return data

    async def _list_json(self, what: str, path: str, **params: Any) -> AsyncIterator[JsonObject]:
        """Every item of a list endpoint (all pages, `starting_after` the last id), as JSON."""
        while True:
            page = await self._get_json(what, path, limit=_PAGE_SIZE, **params)
            items = [item for item in page.get("data") or [] if isinstance(item, dict)]
            for item in items:
                yield item
            if not page.get("has_more") or not items:
                return
            params = {**params, "starting_after": str(items[-1]["id"])}

    @classmethod
    def connect(
        cls,
        *,
        api_key: str,
        api_base: str | None = None,
        max_network_retries: int = 2,
        timeout: float = _DEFAULT_TIMEOUT_SECONDS,
        read_concurrency: int = DEFAULT_READ_CONCURRENCY,
    ) -> StripeBilling:
        """Build a client with its own async HTTP client (closed by `aclose()`)."""
        http_client = stripe.HTTPXClient(timeout=timeout)
        client = create_stripe_client(
            api_key, api_base, max_network_retries, http_client=http_client
        )
        return cls(client, http_client=http_client, read_concurrency=read_concurrency)

    async def aclose(self) -> None:
        """Close the owned HTTP client's connections (no-op when none is owned)."""
        if self._http_client is not None:
            await self._http_client.close_async()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    async def get_invoice(self, invoice_id: str) -> InvoiceSnapshot:
        """Re-read an invoice from Stripe (the source of truth), with its customer and the
        decline of its latest payment attempt read in the same request (expand)."""
        data = await self._get_json(
            f"invoice {invoice_id}",
            f"/v1/invoices/{quote(invoice_id, safe='')}",
            expand=FAILURE_EXPANSIONS,
        )
        snapshot = invoice_snapshot(data)
        customer = data.get("customer")
        if isinstance(customer, Mapping):
            snapshot.customer = customer_snapshot(customer)
        payments = data.get("payments")
        if isinstance(payments, Mapping) and not payments.get("has_more"):
            snapshot.decline = await self._decline_of_payments(list(payments.get("data") or []))
        return snapshot

    async def get_customer(self, customer_id: str) -> CustomerSnapshot:
        """Read a customer; a deleted one comes back with `deleted=True`."""
        customer = await self._get_json(
            f"customer {customer_id}", f"/v1/customers/{quote(customer_id, safe='')}"
        )
        return customer_snapshot(customer)

    async def find_customer_by_email(self, email: str) -> CustomerSnapshot | None:
        """The newest live customer with this email (exact, then lower-cased), or None.

        Uses the customer list's `email` filter rather than search: it is strongly
        consistent, while search may lag behind by minutes.
        """
        wanted = email.strip()
        if not wanted:
            return None
        for candidate in dict.fromkeys([wanted, wanted.lower()]):
            page = await self._read(
                f"customers with email {candidate}",
                self._client.v1.customers.list_async,
                {"email": candidate, "limit": 1},
            )
            if page.data:
                return customer_snapshot(page.data[0].to_dict())
        return None

    async def lifetime_value(self, customer_id: str) -> dict[str, int]:
        """Sum of `amount_paid` over all paid invoices of the customer, per currency."""
        totals: defaultdict[str, int] = defaultdict(int)
        what = f"paid invoices of customer {customer_id}"
        async for invoice in self._list_json(
            what, "/v1/invoices", customer=customer_id, status="paid"
        ):
            totals[str(invoice.get("currency")).lower()] += int(invoice.get("amount_paid") or 0)
        return dict(totals)

    async def invoice_history(self, customer_id: str) -> list[InvoiceRecord]:
        """Every invoice of the customer (all pages, any status), for the customer facts."""
        what = f"invoices of customer {customer_id}"
        return [
            invoice_record(invoice)
            async for invoice in self._list_json(what, "/v1/invoices", customer=customer_id)
        ]

    async def decline_info(self, invoice: InvoiceSnapshot) -> DeclineInfo:
        """Why the invoice's latest payment attempt failed; UNKNOWN when Stripe doesn't say.

        Follows the invoice's payments (`/v1/invoice_payments?invoice=…`), the default one
        first, then newest first, to the payment intent's `last_payment_error` (or a charge's
        failure fields) and maps its codes with `categorise_decline`.
        """
        payments: list[JsonObject] = []
        what = f"payments of invoice {invoice.id}"
        page = await self._read(
            what,
            self._client.v1.invoice_payments.list_async,
            {"invoice": invoice.id, "limit": _PAGE_SIZE},
        )
        async with _stripe_call(what):
            async for listed in page.auto_paging_iter():
                payments.append(listed.to_dict())
        return await self._decline_of_payments(payments)

    async def _decline_of_payments(self, payments: list[JsonObject]) -> DeclineInfo:
        """The first decline found, the default payment first, then newest first."""
        payments.sort(
            key=lambda p: (bool(p.get("is_default")), int(p.get("created") or 0)), reverse=True
        )
        for payment in payments:
            info = await self._decline_of_payment(payment.get("payment") or {})
            if info is not None:
                return info
        return DeclineInfo()

    async def _decline_of_payment(self, payment: Mapping[str, Any]) -> DeclineInfo | None:
        """DeclineInfo from one invoice payment's intent or charge, None if it has no error.

        An intent or charge already expanded in the invoice read costs no request."""
        intent_ref, charge_ref = payment.get("payment_intent"), payment.get("charge")
        intent_id, charge_id = object_id(intent_ref), object_id(charge_ref)
        try:
            if intent_id:
                intent = intent_ref if isinstance(intent_ref, Mapping) else None
                if intent is None:
                    read = await self._read(
                        f"payment intent {intent_id}",
                        self._client.v1.payment_intents.retrieve_async,
                        intent_id,
                    )
                    intent = read.to_dict()
                error = intent.get("last_payment_error")
                if error:
                    return decline_from_error(error)
            if charge_id:
                charge = charge_ref if isinstance(charge_ref, Mapping) else None
                if charge is None:
                    read = await self._read(
                        f"charge {charge_id}", self._client.v1.charges.retrieve_async, charge_id
                    )
                    charge = read.to_dict()
                return decline_from_charge(charge)
        except NotFoundError:
            logger.info("payment object gone while reading decline info", exc_info=True)
        return None

    # -- playbooks: raw objects and writes (BillingWriter) -------------------------------------

    async def retrieve_object(self, kind: str, object_id: str) -> dict[str, Any]:
        """Re-read one Stripe object as plain data ('charge', 'customer', …)."""
        v1 = self._client.v1
        services: dict[str, Any] = {
            "charge": v1.charges,
            "customer": v1.customers,
            "invoice": v1.invoices,
            "payment_intent": v1.payment_intents,
            "subscription": v1.subscriptions,
            "radar.early_fraud_warning": v1.radar.early_fraud_warnings,
        }
        service = services.get(kind)
        if service is None:
            raise NotFoundError(f"dunbot cannot read {kind} objects")
        async with _stripe_call(f"{kind} {object_id}"):
            found = await service.retrieve_async(object_id)
        return dict(found.to_dict())

    async def list_overdue_invoices(self, *, due_before: int) -> list[dict[str, Any]]:
        """Open invoices due before `due_before` (a Unix time), every page, at most 10,000."""
        found: list[dict[str, Any]] = []
        params: InvoiceListParams = {"status": "open", "due_date": {"lt": due_before}, "limit": 100}
        while len(found) < MAX_SWEPT_INVOICES:
            async with _stripe_call("open invoices past due"):
                page = await self._client.v1.invoices.list_async(params)
            items = [dict(i.to_dict()) for i in page.data]
            found.extend(items)
            if not page.has_more or not items:
                break
            params = {**params, "starting_after": str(items[-1]["id"])}
        return found[:MAX_SWEPT_INVOICES]

    async def update_customer_metadata(
        self, customer_id: str, metadata: Mapping[str, str], *, idempotency_key: str
    ) -> None:
        """Set metadata keys on a customer (other keys are left as they are)."""
        async with _stripe_call(f"customer {customer_id} (metadata update)"):
            await self._client.v1.customers.update_async(
                customer_id,
                {"metadata": dict(metadata)},
                {"idempotency_key": idempotency_key},
            )

    async def refund_charge(
        self, charge_id: str, *, amount: int | None, reason: str | None, idempotency_key: str
    ) -> str:
        """Refund a charge (all of it when `amount` is None); returns the refund id."""
        params: RefundCreateParams = {"charge": charge_id}
        if amount is not None:
            params["amount"] = amount
        if reason in ("duplicate", "fraudulent", "requested_by_customer"):
            params["reason"] = reason
        async with _stripe_call(f"charge {charge_id} (refund)"):
            try:
                refund = await self._client.v1.refunds.create_async(
                    params, {"idempotency_key": idempotency_key}
                )
            except stripe.InvalidRequestError as exc:
                if exc.code == "charge_already_refunded":
                    return "already refunded"
                raise BillingError(
                    f"Stripe refused the refund of {charge_id}: {exc.user_message or exc.code}"
                ) from exc
        return str(refund.id)

    async def cancel_subscription(
        self, subscription_id: str, *, at_period_end: bool, idempotency_key: str
    ) -> None:
        """Cancel now, or at the end of the current period; one already cancelled is left."""
        options: RequestOptions = {"idempotency_key": idempotency_key}
        async with _stripe_call(f"subscription {subscription_id} (cancel)"), _refused("cancel"):
            if at_period_end:
                await self._client.v1.subscriptions.update_async(
                    subscription_id, {"cancel_at_period_end": True}, options
                )
            else:
                await self._client.v1.subscriptions.cancel_async(subscription_id, None, options)

    async def update_subscription_metadata(
        self, subscription_id: str, metadata: Mapping[str, str], *, idempotency_key: str
    ) -> None:
        """Set metadata keys on a subscription (e.g. dunbot_closeout before a close-out)."""
        options: RequestOptions = {"idempotency_key": idempotency_key}
        async with _stripe_call(f"subscription {subscription_id} (metadata)"):
            async with _refused("update the subscription's metadata"):
                await self._client.v1.subscriptions.update_async(
                    subscription_id, {"metadata": dict(metadata)}, options
                )

    async def void_invoice(self, invoice_id: str, *, idempotency_key: str) -> None:
        """Void an open invoice (it no longer counts as owed)."""
        async with _stripe_call(f"invoice {invoice_id} (void)"), _refused("void"):
            await self._client.v1.invoices.void_invoice_async(
                invoice_id, None, {"idempotency_key": idempotency_key}
            )

    async def pay_invoice(self, invoice_id: str, *, idempotency_key: str) -> None:
        """Charge the invoice's payment method now (`POST /v1/invoices/{id}/pay`).

        A decline raises PaymentDeclined; an invoice already paid is success, not an error.
        """
        async with _stripe_call(f"invoice {invoice_id} (pay)"):
            try:
                await self._client.v1.invoices.pay_async(
                    invoice_id, None, {"idempotency_key": idempotency_key}
                )
            except stripe.CardError as exc:
                raise PaymentDeclined(
                    f"the payment of {invoice_id} was declined ({exc.code})",
                    decline_code=getattr(exc.error, "decline_code", None) if exc.error else None,
                ) from exc
            except stripe.InvalidRequestError as exc:
                if exc.code == "invoice_already_paid":
                    return
                raise BillingError(
                    f"Stripe refused to pay {invoice_id}: {exc.user_message or exc.code}"
                ) from exc

    async def mark_invoice_uncollectible(self, invoice_id: str, *, idempotency_key: str) -> None:
        """Mark an open invoice uncollectible (Stripe stops collecting it)."""
        async with _stripe_call(f"invoice {invoice_id} (mark uncollectible)"):
            async with _refused("mark uncollectible"):
                await self._client.v1.invoices.mark_uncollectible_async(
                    invoice_id, None, {"idempotency_key": idempotency_key}
                )
