"""`dunbot check` for the customer-facing channels: the pay link (and, later, SMS and task
targets). Each problem says how to fix it."""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.settings import Settings


def public_url_problem(settings: Settings, *, needed_by: str) -> str | None:
    """Why PUBLIC_URL cannot serve `needed_by`, or None when it can."""
    url = settings.public_url
    if not url:
        return f"{needed_by} needs PUBLIC_URL: the https address customers reach dunbot at."
    parts = urlsplit(url)
    local = parts.hostname in {"localhost", "127.0.0.1", "::1"}
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        return f"PUBLIC_URL={url!r} is not a base address like https://dunbot.example.com."
    if parts.scheme != "https" and not local:
        return f"PUBLIC_URL={url!r} must use https (customers open it from their email)."
    return None


def channel_problems(settings: Settings) -> list[str]:
    """What is missing or inconsistent in the channel settings."""
    problems: list[str] = []
    if settings.pay_link == "portal":
        problem = public_url_problem(settings, needed_by="PAY_LINK=portal")
        if problem:
            problems.append(problem)
        if settings.stripe_api_key is None:
            problems.append(
                "PAY_LINK=portal needs STRIPE_API_KEY with write access to customer portal "
                "sessions, and the customer portal configured in the Stripe Dashboard."
            )
    return problems
