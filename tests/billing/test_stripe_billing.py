"""StripeBilling through the real SDK against the fake Stripe server."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
import stripe
from tenacity import AsyncRetrying, RetryCallState

from bot.adapters.stripe_billing import (
    MAX_IN_PROCESS_WAIT_S,
    RATE_LIMIT_ATTEMPTS,
    BillingAuthError,
    StripeBilling,
    _wait_for_rate_limit,
    create_stripe_client,
)
from recovery.domain import DeclineCategory
from recovery.protocols import BillingError, NotFoundError
from tests.fakes.stripe_server import DEFAULT_API_KEY, FakeStripe


def _billing(stripe_api: FakeStripe, *, retries: int) -> StripeBilling:
    return StripeBilling.connect(
        api_key=DEFAULT_API_KEY, api_base=stripe_api.base_url, max_network_retries=retries
    )


async def test_get_invoice_maps_fields(stripe_api: FakeStripe, billing: StripeBilling) -> None:
    cus = stripe_api.add_customer(email="ana@example.com", name="Ana Lima")
    inv = stripe_api.add_invoice(
        customer=cus["id"],
        currency="eur",
        amount_due=4900,
        attempt_count=2,
        next_payment_attempt=1_800_000_000,
        due_date=1_790_000_000,
        hosted_invoice_url="https://invoice.stripe.com/i/acct_1/test_x",
        number="ABC-0042",
    )

    snapshot = await billing.get_invoice(inv["id"])

    assert snapshot.id == inv["id"]
    assert snapshot.number == "ABC-0042"
    assert snapshot.customer_id == cus["id"]
    assert snapshot.customer_email == "ana@example.com"
    assert snapshot.customer_name == "Ana Lima"
    assert snapshot.status == "open"
    assert (snapshot.currency, snapshot.amount_due, snapshot.amount_remaining) == (
        "eur",
        4900,
        4900,
    )
    assert snapshot.attempt_count == 2
    assert snapshot.next_payment_attempt == datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
    assert snapshot.due_date == datetime.fromtimestamp(1_790_000_000, tz=UTC)
    assert snapshot.created is not None and snapshot.created.tzinfo is not None
    assert snapshot.hosted_invoice_url == "https://invoice.stripe.com/i/acct_1/test_x"
    assert snapshot.is_collectible
    assert [r.path for r in stripe_api.requests] == [f"/v1/invoices/{inv['id']}"]


async def test_paid_invoice_without_next_attempt(
    stripe_api: FakeStripe, billing: StripeBilling
) -> None:
    cus = stripe_api.add_customer()
    inv = stripe_api.add_invoice(customer=cus["id"], status="paid", amount_due=700)

    snapshot = await billing.get_invoice(inv["id"])

    assert (snapshot.status, snapshot.amount_paid, snapshot.amount_remaining) == ("paid", 700, 0)
    assert snapshot.next_payment_attempt is None
    assert not snapshot.is_collectible


async def test_get_customer_maps_locales_and_metadata(
    stripe_api: FakeStripe, billing: StripeBilling
) -> None:
    cus = stripe_api.add_customer(
        email="jo@example.fr",
        name="Jo",
        preferred_locales=["fr-FR", "en"],
        metadata={"dunbot_tier": "vip", "seats": "12"},
    )

    snapshot = await billing.get_customer(cus["id"])

    assert snapshot.id == cus["id"]
    assert (snapshot.name, snapshot.email) == ("Jo", "jo@example.fr")
    assert snapshot.preferred_locales == ["fr-FR", "en"]
    assert snapshot.metadata == {"dunbot_tier": "vip", "seats": "12"}
    assert snapshot.deleted is False


async def test_deleted_customer(stripe_api: FakeStripe, billing: StripeBilling) -> None:
    cus = stripe_api.add_customer(email="gone@example.com", metadata={"dunbot_tier": "vip"})
    stripe_api.delete_customer(cus["id"])

    snapshot = await billing.get_customer(cus["id"])

    assert snapshot.deleted is True
    assert snapshot.id == cus["id"]
    assert snapshot.email is None and snapshot.metadata == {}


@pytest.mark.parametrize("kind", ["invoice", "customer"])
async def test_missing_object_raises_not_found(billing: StripeBilling, kind: str) -> None:
    with pytest.raises(NotFoundError, match="not found"):
        if kind == "invoice":
            await billing.get_invoice("in_does_not_exist")
        else:
            await billing.get_customer("cus_does_not_exist")


async def test_lifetime_value_pages_through_every_paid_invoice(
    stripe_api: FakeStripe, billing: StripeBilling
) -> None:
    cus = stripe_api.add_customer()
    other = stripe_api.add_customer()
    stripe_api.add_paid_invoices(customer=cus["id"], count=120, amount=2500)
    stripe_api.add_invoice(customer=cus["id"], status="open", amount_due=99_999)
    stripe_api.add_invoice(customer=cus["id"], status="void", amount_due=88_888)
    stripe_api.add_paid_invoices(customer=other["id"], count=3, amount=1_000_000)

    ltv = await billing.lifetime_value(cus["id"])

    assert ltv == {"usd": 120 * 2500}
    lists = stripe_api.requests_to("/v1/invoices")
    assert len(lists) >= 2
    assert all(r.query["customer"] == cus["id"] and r.query["status"] == "paid" for r in lists)
    assert "starting_after" not in lists[0].query
    assert all("starting_after" in r.query for r in lists[1:])


async def test_lifetime_value_per_currency(stripe_api: FakeStripe, billing: StripeBilling) -> None:
    cus = stripe_api.add_customer()
    stripe_api.add_paid_invoices(customer=cus["id"], count=3, amount=250_000, currency="eur")
    stripe_api.add_paid_invoices(customer=cus["id"], count=2, amount=1500, currency="usd")
    stripe_api.add_paid_invoices(customer=cus["id"], count=4, amount=5000, currency="jpy")

    ltv = await billing.lifetime_value(cus["id"])

    assert ltv == {"eur": 750_000, "usd": 3000, "jpy": 20_000}


async def test_lifetime_value_of_customer_without_paid_invoices(
    stripe_api: FakeStripe, billing: StripeBilling
) -> None:
    cus = stripe_api.add_customer()
    stripe_api.add_invoice(customer=cus["id"], status="open")

    assert await billing.lifetime_value(cus["id"]) == {}


async def test_decline_info_follows_invoice_payment_to_payment_intent(
    stripe_api: FakeStripe, billing: StripeBilling
) -> None:
    cus = stripe_api.add_customer()
    inv = stripe_api.add_invoice(customer=cus["id"], amount_due=4900, attempt_count=1)
    intent = stripe_api.add_failed_payment(
        inv["id"],
        decline_code="insufficient_funds",
        advice_code="try_again_later",
        message="Your card has insufficient funds.",
    )
    snapshot = await billing.get_invoice(inv["id"])

    info = await billing.decline_info(snapshot)

    assert info.category is DeclineCategory.INSUFFICIENT_FUNDS
    assert info.decline_code == "insufficient_funds"
    assert info.advice_code == "try_again_later"
    assert info.message == "Your card has insufficient funds."
    payments = stripe_api.requests_to("/v1/invoice_payments")
    assert payments[0].query["invoice"] == inv["id"]
    assert [r.path for r in stripe_api.requests_to("/v1/payment_intents")] == [
        f"/v1/payment_intents/{intent['id']}"
    ]


async def test_decline_info_prefers_the_default_payment(
    stripe_api: FakeStripe, billing: StripeBilling
) -> None:
    cus = stripe_api.add_customer()
    inv = stripe_api.add_invoice(customer=cus["id"], attempt_count=2)
    stripe_api.add_failed_payment(inv["id"], decline_code="insufficient_funds")
    stripe_api.add_failed_payment(inv["id"], decline_code=None, code="expired_card")
    snapshot = await billing.get_invoice(inv["id"])

    info = await billing.decline_info(snapshot)

    assert info.category is DeclineCategory.EXPIRED_CARD
    assert info.decline_code is None


async def test_decline_info_from_charge_payment(
    stripe_api: FakeStripe, billing: StripeBilling
) -> None:
    cus = stripe_api.add_customer()
    inv = stripe_api.add_invoice(customer=cus["id"], attempt_count=1)
    charge = stripe_api.add_charge(
        customer=cus["id"],
        failure_code="card_declined",
        failure_message="Your card was declined.",
        outcome={"type": "issuer_declined", "reason": "do_not_honor", "advice_code": None},
    )
    stripe_api.add_invoice_payment(invoice_id=inv["id"], charge=charge["id"])

    info = await billing.decline_info(await billing.get_invoice(inv["id"]))

    assert info.category is DeclineCategory.GENERIC_DECLINE
    assert info.decline_code == "do_not_honor"
    assert info.message == "Your card was declined."


async def test_decline_info_tolerates_missing_pieces(
    stripe_api: FakeStripe, billing: StripeBilling
) -> None:
    cus = stripe_api.add_customer()
    no_payments = stripe_api.add_invoice(customer=cus["id"], attempt_count=1)
    gone_intent = stripe_api.add_invoice(customer=cus["id"], attempt_count=1)
    stripe_api.add_invoice_payment(invoice_id=gone_intent["id"], payment_intent="pi_missing")
    no_error = stripe_api.add_invoice(customer=cus["id"], attempt_count=1)
    intent = stripe_api.add_payment_intent(customer=cus["id"], status="processing")
    stripe_api.add_invoice_payment(invoice_id=no_error["id"], payment_intent=intent["id"])

    for invoice in (no_payments, gone_intent, no_error):
        info = await billing.decline_info(await billing.get_invoice(invoice["id"]))
        assert info.category is DeclineCategory.UNKNOWN
        assert info.decline_code is None


async def test_find_customer_by_email(stripe_api: FakeStripe, billing: StripeBilling) -> None:
    stripe_api.add_customer(email="someone@example.com")
    old = stripe_api.add_customer(email="ana@example.com", name="Old Ana")
    new = stripe_api.add_customer(email="ana@example.com", name="New Ana")
    stripe_api.delete_customer(new["id"])

    found = await billing.find_customer_by_email(" ana@example.com ")
    by_lowercase = await billing.find_customer_by_email("ANA@example.com")
    missing = await billing.find_customer_by_email("nobody@example.com")

    assert found is not None and found.id == old["id"]
    assert by_lowercase is not None and by_lowercase.id == old["id"]
    assert missing is None
    assert stripe_api.requests_to("/v1/customers")[0].query["email"] == "ana@example.com"


@pytest.mark.parametrize(("status", "should_retry"), [(500, None), (503, None)], ids=str)
async def test_rate_limit_and_server_errors_raise_billing_error_after_retries(
    stripe_api: FakeStripe, status: int, should_retry: bool | None
) -> None:
    cus = stripe_api.add_customer()
    inv = stripe_api.add_invoice(customer=cus["id"])
    stripe_api.fail_next(5, status=status, path_prefix="/v1/invoices", should_retry=should_retry)
    billing = _billing(stripe_api, retries=1)
    try:
        with pytest.raises(BillingError) as caught:
            await billing.get_invoice(inv["id"])
    finally:
        await billing.aclose()

    assert not isinstance(caught.value, NotFoundError)
    assert [r.status for r in stripe_api.requests] == [status, status]  # first try + 1 retry


async def test_rate_limit_is_retried_in_process_then_reads(
    stripe_api: FakeStripe, billing: StripeBilling
) -> None:
    cus = stripe_api.add_customer()
    inv = stripe_api.add_invoice(customer=cus["id"])
    stripe_api.fail_next(2, status=429, retry_after=0)

    snapshot = await billing.get_invoice(inv["id"])

    assert snapshot.id == inv["id"]
    assert [r.status for r in stripe_api.requests] == [429, 429, 200]


async def test_a_lasting_rate_limit_is_a_billing_error_after_bounded_retries(
    stripe_api: FakeStripe, billing: StripeBilling
) -> None:
    stripe_api.fail_next(RATE_LIMIT_ATTEMPTS + 5, status=429, retry_after=0)

    with pytest.raises(BillingError, match="rate limit"):
        await billing.lifetime_value("cus_any")

    assert len(stripe_api.requests) == RATE_LIMIT_ATTEMPTS


def test_rate_limit_wait_is_stripes_retry_after_capped() -> None:
    def wait_after(headers: dict[str, str]) -> float:
        state = RetryCallState(retry_object=AsyncRetrying(), fn=None, args=(), kwargs={})
        error = stripe.RateLimitError("slow down", http_status=429, headers=headers)
        state.set_exception((type(error), error, None))
        return _wait_for_rate_limit(state)

    assert wait_after({"Retry-After": "3"}) == 3.0
    assert wait_after({"Retry-After": "120"}) == MAX_IN_PROCESS_WAIT_S
    assert 0 <= wait_after({}) <= MAX_IN_PROCESS_WAIT_S


async def test_sdk_retry_recovers_from_one_server_error(stripe_api: FakeStripe) -> None:
    cus = stripe_api.add_customer()
    stripe_api.add_paid_invoices(customer=cus["id"], count=2, amount=100)
    stripe_api.fail_next(1, status=500)
    billing = _billing(stripe_api, retries=2)
    try:
        assert await billing.lifetime_value(cus["id"]) == {"usd": 200}
    finally:
        await billing.aclose()

    assert [r.status for r in stripe_api.requests] == [500, 200]


async def test_connection_error_is_billing_error(stripe_api: FakeStripe) -> None:
    base = stripe_api.base_url
    stripe_api.stop()
    billing = StripeBilling.connect(api_key=DEFAULT_API_KEY, api_base=base, max_network_retries=0)
    try:
        with pytest.raises(BillingError, match="could not reach Stripe"):
            await billing.get_customer("cus_1")
    finally:
        await billing.aclose()


async def test_rejected_key_is_auth_error_and_never_logged(
    stripe_api: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    secret_key = "sk_test_wrong_key_0123456789abcdef"
    billing = StripeBilling.connect(
        api_key=secret_key, api_base=stripe_api.base_url, max_network_retries=0
    )
    caplog.set_level(logging.DEBUG)
    try:
        with pytest.raises(BillingAuthError, match="STRIPE_API_KEY") as caught:
            await billing.get_invoice("in_1")
    finally:
        await billing.aclose()

    assert secret_key not in str(caught.value)
    assert secret_key not in repr(billing)
    assert secret_key not in caplog.text


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/"])
async def test_create_stripe_client_takes_base_address_without_v1(
    stripe_api: FakeStripe, suffix: str
) -> None:
    cus = stripe_api.add_customer(name="Base")
    client = create_stripe_client(DEFAULT_API_KEY, stripe_api.base_url + suffix, 0)

    snapshot = await StripeBilling(client).get_customer(cus["id"])

    assert snapshot.name == "Base"
    assert [r.path for r in stripe_api.requests] == [f"/v1/customers/{cus['id']}"]
