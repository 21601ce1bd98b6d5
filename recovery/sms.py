"""SMS rules: who may get one (consent, a valid number, not opted out), when (not from 21:00
to 08:00 in the customer's time zone) and what fits in one message (160 GSM-7 characters, or
70 UCS-2 when anything outside GSM-7 is in it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from recovery.domain import CustomerSnapshot

GSM7_LIMIT = 160
UCS2_LIMIT = 70
QUIET_FROM = time(21, 0)
QUIET_UNTIL = time(8, 0)
TIMEZONE_METADATA_KEY = "timezone"

# GSM 03.38 default alphabet; the extension table's characters take two septets.
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

# Replies that opt out or back in (Twilio's and the CTIA's standard keywords).
OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})


class Channel(StrEnum):
    """Ways an approved draft reaches a customer (DUNNING_CHANNELS)."""

    EMAIL = "email"
    SMS = "sms"


def parse_channels(value: str | list[str] | tuple[str, ...] | frozenset[str]) -> frozenset[Channel]:
    """'email,sms' → {EMAIL, SMS}; ValueError naming an unknown channel or an empty list."""
    parts = value.split(",") if isinstance(value, str) else list(value)
    names = [part.strip().lower() for part in parts if part.strip()]
    unknown = [name for name in names if name not in {c.value for c in Channel}]
    if unknown or not names:
        raise ValueError(f"channels must be email, sms or email,sms (got {value!r})")
    return frozenset(Channel(name) for name in names)


def sms_encoding(text: str) -> tuple[str, int]:
    """('gsm7', septets) when every character is GSM-7, else ('ucs2', UTF-16 code units)."""
    if all(c in _GSM7_BASIC or c in _GSM7_EXTENSION for c in text):
        return "gsm7", sum(2 if c in _GSM7_EXTENSION else 1 for c in text)
    return "ucs2", len(text.encode("utf-16-le")) // 2


def fits_one_sms(text: str) -> bool:
    """True when the text is one message: ≤ 160 GSM-7 septets or ≤ 70 UCS-2 units."""
    encoding, length = sms_encoding(text)
    return length <= (GSM7_LIMIT if encoding == "gsm7" else UCS2_LIMIT)


def e164(phone: str | None, *, country: str | None) -> str | None:
    """The number in E.164 (+4915123456789), or None when it is missing or not valid."""
    if not phone:
        return None
    try:
        parsed = phonenumbers.parse(phone, (country or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def customer_zone(customer: CustomerSnapshot, *, default: str) -> ZoneInfo:
    """The customer's IANA zone from metadata `timezone`, else `default`, else UTC."""
    for name in (customer.metadata.get(TIMEZONE_METADATA_KEY), default):
        if name:
            try:
                return ZoneInfo(name.strip())
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def quiet_until(now: datetime, zone: ZoneInfo) -> datetime | None:
    """When 21:00–08:00 local: the next 08:00 local (as UTC); None when an SMS may go now."""
    local = now.astimezone(zone)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return None
    morning = local.date() + (timedelta(days=1) if local.time() >= QUIET_FROM else timedelta())
    return datetime.combine(morning, QUIET_UNTIL, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class SmsEligibility:
    """Whether the customer can be texted, and at which number (or why not)."""

    phone: str | None
    reason: str | None  # None when eligible


def sms_eligibility(
    customer: CustomerSnapshot, *, consent_field: str, opted_out: frozenset[str]
) -> SmsEligibility:
    """Consent in metadata (`consent_field` = 'true'), a valid number, and no opt-out."""
    if customer.metadata.get(consent_field, "").strip().lower() != "true":
        return SmsEligibility(None, f"no SMS consent (customer metadata {consent_field})")
    phone = e164(customer.phone, country=customer.country)
    if phone is None:
        return SmsEligibility(None, "no valid phone number on the customer")
    if phone in opted_out:
        return SmsEligibility(None, "the customer replied STOP to our texts")
    return SmsEligibility(phone, None)


def keyword(body: str) -> str:
    """The first word of an SMS reply, upper-cased ('Stop.' → 'STOP')."""
    words = body.strip().split()
    return words[0].strip(".!").upper() if words else ""
