"""`dunbot check` for the customer-facing channels and task targets: the pay link, SMS
through Twilio, Teams and the outbound task webhook. Each problem says how to fix it."""

from __future__ import annotations

from urllib.parse import urlsplit

from standardwebhooks import Webhook

from bot.settings import Settings
from recovery.sms import e164


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
    if "sms" in settings.dunning_channels:
        problems += _twilio_problems(settings)
    problems += _task_target_problems(settings)
    return problems


def _https_problem(name: str, url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        return f"{name} must be an https URL (got a {parts.scheme or 'relative'} address)."
    return None


def _task_target_problems(settings: Settings) -> list[str]:
    """Teams and the outbound task webhook: https URLs, and a whsec_ secret for the webhook."""
    problems: list[str] = []
    if settings.teams_webhook_url is not None:
        problem = _https_problem("TEAMS_WEBHOOK_URL", settings.teams_webhook_url.get_secret_value())
        if problem:
            problems.append(problem)
    if settings.task_webhook_url:
        problem = _https_problem("TASK_WEBHOOK_URL", settings.task_webhook_url)
        if problem:
            problems.append(problem)
        secret = settings.task_webhook_secret
        if secret is None or not secret.get_secret_value().startswith("whsec_"):
            problems.append(
                "TASK_WEBHOOK_URL needs TASK_WEBHOOK_SECRET: a Standard Webhooks secret "
                "(whsec_ followed by base64), shared with the receiver."
            )
        else:
            try:
                Webhook(secret.get_secret_value())
            except Exception:  # noqa: BLE001 - any decoding problem means a bad secret
                problems.append("TASK_WEBHOOK_SECRET is not whsec_ followed by base64.")
    return problems


def _twilio_problems(settings: Settings) -> list[str]:
    """DUNNING_CHANNELS includes sms: the Twilio account, a sender and the inbound URL."""
    problems: list[str] = []
    sid = settings.twilio_account_sid or ""
    if not sid.startswith("AC") or len(sid) != 34:
        problems.append(
            "TWILIO_ACCOUNT_SID must be your account SID (AC… 34 characters) from the "
            "Twilio Console when DUNNING_CHANNELS includes sms."
        )
    if settings.twilio_auth_token is None:
        problems.append(
            "TWILIO_AUTH_TOKEN is not set: copy the auth token from the Twilio Console."
        )
    sender, service = settings.twilio_from, settings.twilio_messaging_service_sid
    if not sender and not service:
        problems.append(
            "Set TWILIO_FROM (a Twilio number in E.164, e.g. +15005550006) or "
            "TWILIO_MESSAGING_SERVICE_SID (MG…) to send SMS."
        )
    if sender and not e164(sender, country=None) and not sender.isalnum():
        problems.append(f"TWILIO_FROM={sender!r} is neither an E.164 number nor a sender id.")
    if service and not service.startswith("MG"):
        problems.append(f"TWILIO_MESSAGING_SERVICE_SID={service!r} must start with MG.")
    problem = public_url_problem(settings, needed_by="Inbound SMS (STOP, replies)")
    if problem:
        problems.append(problem)
    return problems


async def twilio_probe(settings: Settings) -> str | None:
    """With SMS on: fetch the Twilio account with the configured credentials (sends nothing)."""
    if "sms" not in settings.dunning_channels or settings.twilio_auth_token is None:
        return None
    from twilio.base.exceptions import TwilioRestException

    from bot.adapters.twilio_sms import BaseAddressHttpClient, TwilioSmsSender

    sid = settings.twilio_account_sid or ""
    sender = TwilioSmsSender(
        account_sid=sid,
        auth_token=settings.twilio_auth_token.get_secret_value(),
        sender=settings.twilio_from or "check",
        messaging_service_sid=settings.twilio_messaging_service_sid,
        api_base=settings.twilio_api_base,
    )
    http_client = BaseAddressHttpClient(api_base=settings.twilio_api_base, timeout=10)
    try:
        await sender.client(http_client).api.v2010.accounts(sid).fetch_async()
    except TwilioRestException as error:
        return (
            f"Twilio refused the account (HTTP {error.status}, code {error.code}); "
            "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN."
        )
    except Exception as error:  # noqa: BLE001 - reported to the operator
        return f"Twilio not reachable at {settings.twilio_api_base} ({type(error).__name__})."
    finally:
        await http_client.close()
    return None
