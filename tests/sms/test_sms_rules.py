"""SMS rules: GSM-7 vs UCS-2 length, E.164 numbers, quiet hours in the customer's zone,
consent, and the template text in every language fitting one message with the pay link."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from prompts import SUPPORTED_LANGUAGES
from recovery.domain import CustomerSnapshot, InvoiceSnapshot
from recovery.guardrails import check_draft, find_links
from recovery.sms import (
    customer_zone,
    e164,
    fits_one_sms,
    keyword,
    quiet_until,
    sms_eligibility,
    sms_encoding,
)
from recovery.sms_delivery import sms_text

BERLIN = ZoneInfo("Europe/Berlin")
URL = "https://invoice.stripe.com/i/acct_fake/in_1Pgc6tB7WZ01zgkWu9fdqL6I"


def test_gsm7_and_ucs2_lengths() -> None:
    assert sms_encoding("Hello €5 [ok]") == ("gsm7", 16)  # € [ ] take two septets each
    assert fits_one_sms("a" * 160) and not fits_one_sms("a" * 161)
    assert sms_encoding("お支払い") == ("ucs2", 4)
    assert fits_one_sms("é" * 160)  # é is GSM-7
    assert fits_one_sms("á" * 70) and not fits_one_sms("á" * 71)  # á is not
    assert sms_encoding("😀")[1] == 2  # a surrogate pair counts twice


@pytest.mark.parametrize(
    ("phone", "country", "expected"),
    [
        ("015123456789", "DE", "+4915123456789"),
        ("+49 151 23456789", None, "+4915123456789"),
        ("(415) 555-2671", "us", "+14155552671"),
        ("12345", "DE", None),
        ("015123456789", None, None),  # national number without a country
        (None, "DE", None),
    ],
)
def test_numbers_to_e164(phone: str | None, country: str | None, expected: str | None) -> None:
    assert e164(phone, country=country) == expected


@pytest.mark.parametrize(
    ("utc", "held_until"),
    [
        (datetime(2026, 12, 2, 11, 0, tzinfo=UTC), None),  # 12:00 Berlin
        (datetime(2026, 12, 2, 19, 59, tzinfo=UTC), None),  # 20:59
        (datetime(2026, 12, 2, 20, 0, tzinfo=UTC), datetime(2026, 12, 3, 7, 0, tzinfo=UTC)),
        (datetime(2026, 12, 3, 2, 0, tzinfo=UTC), datetime(2026, 12, 3, 7, 0, tzinfo=UTC)),
        (datetime(2026, 12, 3, 7, 0, tzinfo=UTC), None),  # 08:00 sharp
        (datetime(2026, 7, 1, 5, 30, tzinfo=UTC), datetime(2026, 7, 1, 6, 0, tzinfo=UTC)),  # DST
    ],
)
def test_quiet_hours_in_the_customers_zone(utc: datetime, held_until: datetime | None) -> None:
    assert quiet_until(utc, BERLIN) == held_until


def test_zone_from_metadata_else_company_else_utc() -> None:
    tokyo = CustomerSnapshot(id="c", metadata={"timezone": "Asia/Tokyo"})
    assert customer_zone(tokyo, default="Europe/Berlin").key == "Asia/Tokyo"
    odd = CustomerSnapshot(id="c", metadata={"timezone": "Nowhere/City"})
    assert customer_zone(odd, default="Europe/Berlin").key == "Europe/Berlin"
    assert customer_zone(odd, default="").key == "UTC"


def test_consent_number_and_opt_out_decide_eligibility() -> None:
    base = {"id": "c", "phone": "015123456789", "country": "DE"}
    ok = CustomerSnapshot(**base, metadata={"sms_consent": "TRUE"})
    assert sms_eligibility(ok, consent_field="sms_consent", opted_out=frozenset()).phone
    for customer, opted_out, reason in [
        (CustomerSnapshot(**base), frozenset(), "consent"),
        (CustomerSnapshot(**base, metadata={"sms_consent": "yes"}), frozenset(), "consent"),
        (ok.model_copy(update={"phone": None}), frozenset(), "phone"),
        (ok, frozenset({"+4915123456789"}), "STOP"),
    ]:
        result = sms_eligibility(customer, consent_field="sms_consent", opted_out=opted_out)
        assert result.phone is None and reason in (result.reason or "")


def test_reply_keywords() -> None:
    assert keyword("  stop. ") == "STOP" and keyword("Start please") == "START"
    assert keyword("") == ""


@pytest.mark.parametrize("language", sorted(SUPPORTED_LANGUAGES))
def test_template_sms_fits_with_the_pay_link_and_passes_the_guardrails(language: str) -> None:
    invoice = InvoiceSnapshot(
        id="in_1", customer_id="c", status="open", currency="eur", amount_due=4900,
        amount_remaining=4900,
    )  # fmt: skip
    text = sms_text(invoice=invoice, locale=language, company="Acme", url=URL)
    assert text is not None and fits_one_sms(text)
    assert find_links(text) == [URL]
    assert check_draft("SMS", text.replace(URL, "the page"), amount_due=4900, currency="eur") == []
