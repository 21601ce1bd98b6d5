"""A customer's facts and assignments as lines for a person (CLI and Slack alike)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from recovery.customers.facts import CustomerFacts
from recovery.money import format_amount
from storage.models import CustomerProfile


def money_text(amounts: Mapping[str, int]) -> str:
    """`$120.00, 49,00 €` or `0`."""
    shown = [format_amount(int(v), c) for c, v in sorted(amounts.items()) if int(v)]
    return ", ".join(shown) or "0"


def tenure_text(since: datetime | None, *, now: datetime) -> str:
    if since is None:
        return "unknown"
    days = max(0, (now - since).days)
    return (
        f"since {since:%Y-%m-%d} ({days // 30} months)"
        if days >= 60
        else f"since {since:%Y-%m-%d} ({days} days)"
    )


def profile_lines(
    profile: CustomerProfile, *, owners: list[str], now: datetime
) -> list[tuple[str, str]]:
    """(label, value) pairs; values are customer data: the caller escapes them for Slack."""
    facts = CustomerFacts.from_dict(profile.facts or {})
    delay = (
        "no paid invoice with a due date"
        if facts.avg_delay_days is None
        else (f"{facts.avg_delay_days:g} days")
    )
    rows = [
        ("Outstanding", money_text(facts.outstanding)),
        ("Overdue", money_text(facts.overdue)),
        ("Average payment delay (12 months)", delay),
        ("Failed payments (90 days)", str(facts.failed_90d)),
        ("Payment rating", facts.rating),
        ("Lifetime value", money_text(facts.ltv)),
        ("Segment", profile.segment or "standard"),
        ("Customer", tenure_text(profile.customer_since, now=now)),
        ("Plans", ", ".join(facts.plans) or "none"),
        ("Owner", owner_text(owners, rule=profile.owner_rule)),
        ("Dunning plan", profile.dunning_plan or "default"),
        ("Dunning", exclusion_text(profile)),
    ]
    for key, value in sorted((profile.metadata_fields or {}).items()):
        rows.append((f"metadata.{key}", str(value)))
    if profile.computed_at is not None:
        rows.append(("Facts computed", f"{profile.computed_at:%Y-%m-%d %H:%M} UTC"))
    return rows


def owner_text(owners: list[str], *, rule: str | None) -> str:
    if not owners:
        return "none"
    return ", ".join(owners) + (f" (rule “{rule}”)" if rule else "")


def exclusion_text(profile: CustomerProfile) -> str:
    if not profile.excluded:
        return "included"
    reason = f": {profile.excluded_reason}" if profile.excluded_reason else ""
    return f"excluded by {profile.excluded_by or 'a rule'}{reason}"
