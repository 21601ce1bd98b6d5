"""`dunbot check`: is the configuration complete, and can each configured service be reached?"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from bot.channel_checks import channel_problems, twilio_probe
from bot.settings import Settings

Echo = Callable[[str], object]
Probe = Callable[[Settings], Awaitable[str | None]]

DASHBOARD_TOKEN_MIN_CHARS = 16
DATABASE_URL_EXAMPLES = (
    "Use e.g. sqlite+aiosqlite:///./dunbot.db or postgresql+asyncpg://user:password@host/dbname."
)
NOT_CONFIGURED = "not configured"


def configuration_problems(settings: Settings) -> list[str]:
    """What is missing or inconsistent, each with how to fix it."""
    problems: list[str] = []
    if settings.stripe_api_key is None:
        problems.append(
            "STRIPE_API_KEY is not set: use a restricted key with read access to "
            "invoices, customers and payment intents."
        )
    if settings.stripe_webhook_secret is None:
        problems.append(
            "STRIPE_WEBHOOK_SECRET is not set: copy the signing secret (whsec_…) "
            "of the webhook endpoint pointing at /stripe/webhook."
        )
    if settings.slack_bot_token is None or settings.slack_signing_secret is None:
        problems.append(
            "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are required: install the app "
            "from slack-manifest.yml and copy both from its settings page."
        )
    for name in ("slack_approvals_channel", "slack_vip_channel"):
        if not getattr(settings, name):
            problems.append(f"{name.upper()} is not set: the Slack channel id (C…) to post to.")
    if not settings.finance_approvers:
        problems.append(
            "FINANCE_APPROVERS is empty: nobody could approve drafts "
            "(comma-separated Slack user ids, U…)."
        )
    if not settings.account_managers:
        problems.append("ACCOUNT_MANAGERS is empty: nobody could claim VIP tasks.")
    if settings.llm_provider == "openai" and settings.openai_api_key is None:
        problems.append("LLM_PROVIDER=openai needs OPENAI_API_KEY (or use LLM_PROVIDER=template).")
    if settings.llm_provider == "anthropic" and settings.anthropic_api_key is None:
        problems.append("LLM_PROVIDER=anthropic needs ANTHROPIC_API_KEY.")
    if settings.email_backend == "smtp" and not settings.smtp_host:
        problems.append("EMAIL_BACKEND=smtp needs SMTP_HOST (and usually SMTP_USERNAME/PASSWORD).")
    problems += channel_problems(settings)
    token = settings.dashboard_token.get_secret_value() if settings.dashboard_token else None
    if token is not None and len(token) < DASHBOARD_TOKEN_MIN_CHARS:
        problems.append(
            f"DASHBOARD_TOKEN is only {len(token)} characters: use at least "
            f"{DASHBOARD_TOKEN_MIN_CHARS} random ones (e.g. `openssl rand -hex 24`)."
        )
    return problems


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    parsed = make_url(url)
    if not parsed.get_backend_name().startswith("sqlite"):
        return None
    database = parsed.database
    return Path(database) if database and database != ":memory:" else None


async def _database(settings: Settings) -> str | None:
    """Reachable and migrated; a missing SQLite file is reported, never created."""
    from storage.db import Database
    from storage.migrate import head_revision, is_up_to_date

    try:
        sqlite_file = _sqlite_file(settings.database_url)
    except (ArgumentError, ValueError):
        return f"DATABASE_URL is not a database URL. {DATABASE_URL_EXAMPLES}"
    if sqlite_file is not None and not sqlite_file.exists():
        return f"the SQLite file {sqlite_file} does not exist: run `dunbot db upgrade`."
    try:
        db = Database(settings.database_url)
    except (ArgumentError, ValueError) as error:
        return f"DATABASE_URL cannot be used ({type(error).__name__}). {DATABASE_URL_EXAMPLES}"
    try:
        if not await is_up_to_date(db):
            return f"database is not at schema {head_revision()}: run `dunbot db upgrade`."
    except Exception as error:  # noqa: BLE001 - reported to the operator
        first_line = str(error).splitlines()[0] if str(error) else ""
        return f"database unreachable ({type(error).__name__}: {first_line}); check DATABASE_URL."
    finally:
        await db.dispose()
    return None


async def _stripe(settings: Settings) -> str | None:
    if settings.stripe_api_key is None:
        return None
    from bot.adapters.stripe_billing import StripeBilling

    billing = StripeBilling.connect(
        api_key=settings.stripe_api_key.get_secret_value(),
        api_base=settings.stripe_api_base,
        max_network_retries=0,
    )
    try:
        await billing.find_customer_by_email("dunbot-check@example.invalid")
    except Exception as error:  # noqa: BLE001
        return f"Stripe API not reachable with STRIPE_API_KEY: {type(error).__name__}: {error}"
    finally:
        await billing.aclose()
    return None


async def _slack(settings: Settings) -> str | None:
    if settings.slack_bot_token is None:
        return None
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url
    )
    try:
        await client.auth_test()
    except SlackApiError as error:
        return f"Slack rejected SLACK_BOT_TOKEN: {error.response.get('error')}"
    except Exception as error:  # noqa: BLE001
        return f"Slack API not reachable: {type(error).__name__}: {error}"
    return None


async def _smtp(settings: Settings) -> str | None:
    """Connect, greet and (if configured) log in to the SMTP server; send nothing."""
    if settings.email_backend != "smtp" or not settings.smtp_host:
        return None
    import aiosmtplib

    from bot.adapters.mail.factory import parse_tls_mode

    mode = parse_tls_mode(settings.smtp_tls)
    client = aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        use_tls=mode == "tls",
        start_tls=mode == "starttls",
        timeout=10,
    )
    try:
        await client.connect()
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            await client.login(settings.smtp_username, password)
        await client.quit()
    except Exception as error:  # noqa: BLE001 - reported to the operator
        return (
            f"SMTP server {settings.smtp_host}:{settings.smtp_port} not usable "
            f"({type(error).__name__}: {error}); check SMTP_HOST/PORT/TLS/USERNAME/PASSWORD."
        )
    return None


def _configured(settings: Settings) -> dict[str, bool]:
    """Which services the settings ask for (a probe of the others would prove nothing)."""
    return {
        "database": True,
        "stripe": settings.stripe_api_key is not None,
        "slack": settings.slack_bot_token is not None,
        "smtp": settings.email_backend == "smtp" and bool(settings.smtp_host),
        "twilio": "sms" in settings.dunning_channels,
    }


async def run_checks(settings: Settings, *, echo: Echo) -> int:
    """Print each service's state (OK, FAILED or not configured) and each problem; return how
    many problems there are."""
    problems = configuration_problems(settings)
    probes: dict[str, Probe] = {
        "database": _database,
        "stripe": _stripe,
        "slack": _slack,
        "smtp": _smtp,
        "twilio": twilio_probe,
    }
    configured = _configured(settings)
    for name, probe in probes.items():
        if not configured[name]:
            echo(f"{name}: {NOT_CONFIGURED}")
            continue
        problem = await probe(settings)
        echo(f"{name}: {'OK' if problem is None else 'FAILED'}")
        if problem:
            problems.append(problem)
    from bot.playbooks.loading import playbook_check
    from bot.playbooks.plan_checks import plan_retry_notes

    notes, playbook_problems = playbook_check(settings)
    notes += await plan_retry_notes(settings)
    for note in notes:
        echo(note)
    problems.extend(playbook_problems)
    for problem in problems:
        echo(f"  - {problem}")
    return len(problems)
