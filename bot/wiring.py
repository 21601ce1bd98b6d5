"""Composition: settings → database, adapters, recovery engine, worker, web app."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from fastapi import FastAPI

from bot.adapters.llm.factory import build_drafter
from bot.adapters.mail.factory import build_mailer
from bot.app import create_app
from bot.logs import configure_logging
from bot.playbooks.loading import load_configured_playbook
from bot.playbooks.plan_wiring import (
    build_plan_service,
    plan_job_handlers,
    plan_notifier,
    register_plan_slack,
)
from bot.playbooks.wiring import (
    build_playbook_runner,
    playbook_event_types,
    playbook_job_handlers,
    register_playbook_slack,
)
from bot.runtime import Runtime, SlackParts
from bot.settings import Settings
from recovery.batches import BatchPolicy
from recovery.config import RecoveryConfig
from recovery.customers.actions import CustomerActions
from recovery.customers.rules import CustomerRules, CustomerRulesConfig
from recovery.customers.service import CustomerFactsService
from recovery.drafting.guarded import GuardedDrafter
from recovery.engine import RecoveryEngine
from recovery.jobkinds import SLACK_JOB_KINDS, JobKind
from recovery.playbooks.rules import EMPTY_PLAYBOOK, Playbook
from recovery.protocols import Billing, Mailer, Notifier, PayLinks, SmsSender
from storage.db import Database
from storage.queue import ClaimedJob
from storage.worker import JobHandler, Worker

if TYPE_CHECKING:
    from bot.adapters.stripe_billing import StripeBilling
    from recovery.customers.ports import CustomerHistory


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret, so the log redactor can hide it."""
    secrets = [
        settings.stripe_api_key,
        settings.stripe_webhook_secret,
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.openai_api_key,
        settings.anthropic_api_key,
        settings.smtp_password,
        settings.dashboard_token,
        settings.pay_link_secret,
        settings.twilio_auth_token,
        settings.teams_webhook_url,
        settings.task_webhook_secret,
    ]
    return [s.get_secret_value() for s in secrets if s is not None]


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def recovery_config(settings: Settings) -> RecoveryConfig:
    return RecoveryConfig(
        vip_ltv_threshold=settings.vip_ltv_threshold,
        vip_ltv_thresholds=dict(settings.vip_ltv_thresholds),
        vip_invoice_threshold=settings.vip_invoice_threshold,
        vip_plans=frozenset(settings.vip_plans),
        vip_tenure_months=settings.vip_tenure_months,
        vip_tenure_min_invoice=settings.vip_tenure_min_invoice,
        max_emails_per_invoice=settings.max_emails_per_invoice,
        min_days_between_emails=settings.min_days_between_emails,
        vip_claim_sla_s=settings.vip_claim_sla,
        company_name=settings.company_name,
        email_from=settings.email_from,
        email_reply_to=settings.email_reply_to,
        sms_consent_field=settings.sms_consent_field,
        company_timezone=settings.company_timezone,
        task_targets=tuple(
            name
            for name, configured in (
                ("teams", settings.teams_webhook_url is not None),
                ("webhook", bool(settings.task_webhook_url)),
            )
            if configured
        ),
    )


def build_billing(settings: Settings) -> StripeBilling:
    from bot.adapters.stripe_billing import StripeBilling

    if settings.stripe_api_key is None:
        raise RuntimeError("STRIPE_API_KEY is not set (run `dunbot check`, or `dunbot demo`).")
    return StripeBilling.connect(
        api_key=settings.stripe_api_key.get_secret_value(), api_base=settings.stripe_api_base
    )


def build_mail(settings: Settings) -> Mailer:
    return build_mailer(
        settings.email_backend,
        outbox_dir=settings.email_outbox_dir,
        smtp_host=settings.smtp_host,
        smtp_port=settings.smtp_port,
        smtp_username=settings.smtp_username,
        smtp_password=settings.smtp_password,
        smtp_tls=settings.smtp_tls,
    )


def build_drafting(settings: Settings, *, db: Database | None = None) -> GuardedDrafter:
    """The configured drafter; with `db`, LLM calls share the database's per-minute budget."""
    budget = None
    if db is not None and settings.llm_provider != "template":
        from bot.adapters.llm.budget import SharedLLMBudget

        budget = SharedLLMBudget(db=db, requests_per_minute=settings.llm_requests_per_minute)
    return build_drafter(
        settings.llm_provider,
        model=settings.llm_model,
        openai_api_key=_secret(settings.openai_api_key),
        openai_base_url=settings.openai_base_url,
        anthropic_api_key=_secret(settings.anthropic_api_key),
        anthropic_base_url=settings.anthropic_base_url,
        company_name=settings.company_name,
        request_timeout_s=settings.llm_timeout_s,
        concurrency=settings.llm_concurrency,
        budget=budget,
    )


def build_pay_links(settings: Settings) -> PayLinks | None:
    """PAY_LINK=portal: signed dunbot links; None keeps Stripe's hosted invoice page."""
    if settings.pay_link != "portal":
        return None
    from bot.pay_links import PortalPayLinks, pay_link_signer

    signer = pay_link_signer(settings)
    if signer is None or not settings.public_url:
        raise RuntimeError(
            "PAY_LINK=portal needs PUBLIC_URL and STRIPE_API_KEY (or PAY_LINK_SECRET); "
            "set them or use PAY_LINK=invoice (run `dunbot check`)."
        )
    return PortalPayLinks(signer=signer, public_url=settings.public_url)


def build_sms_sender(settings: Settings) -> SmsSender | None:
    """Twilio, when DUNNING_CHANNELS includes sms and the account is configured."""
    if "sms" not in settings.dunning_channels:
        return None
    if not settings.twilio_account_sid or settings.twilio_auth_token is None:
        raise RuntimeError(
            "DUNNING_CHANNELS includes sms: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
            "TWILIO_FROM (or TWILIO_MESSAGING_SERVICE_SID); run `dunbot check`."
        )
    from bot.adapters.twilio_sms import TwilioSmsSender

    return TwilioSmsSender(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token.get_secret_value(),
        sender=settings.twilio_from,
        messaging_service_sid=settings.twilio_messaging_service_sid,
        api_base=settings.twilio_api_base,
    )


def build_task_targets(settings: Settings) -> Any:
    """Teams and/or the signed task webhook, when configured (else None)."""
    if settings.teams_webhook_url is None and not settings.task_webhook_url:
        return None
    if settings.task_webhook_url and settings.task_webhook_secret is None:
        raise RuntimeError(
            "TASK_WEBHOOK_URL needs TASK_WEBHOOK_SECRET (whsec_…); run `dunbot check`."
        )
    from bot.adapters.task_targets import HttpTaskTargets

    return HttpTaskTargets(
        teams_url=_secret(settings.teams_webhook_url),
        webhook_url=settings.task_webhook_url,
        webhook_secret=_secret(settings.task_webhook_secret),
    )


def build_slack(
    settings: Settings, db: Database, *, livemode: bool, playbook: Playbook = EMPTY_PLAYBOOK
) -> SlackParts | None:
    """The Slack adapter, when a bot token and signing secret are configured."""
    if settings.slack_bot_token is None or settings.slack_signing_secret is None:
        return None
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.slack.app import build_bolt_app
    from bot.slack.handlers import SlackDeps
    from bot.slack.notifier import SlackNotifier
    from bot.slack.pacing import SharedChannelPacer

    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url
    )
    notifier = SlackNotifier(
        db=db,
        client=client,
        approvals_channel=settings.slack_approvals_channel or "",
        vip_channel=settings.slack_vip_channel or "",
        account_managers=settings.account_managers,
        livemode=livemode,
        stripe_dashboard=settings.environment != "demo",
        sms_choice={"email", "sms"} <= set(settings.dunning_channels),
        sms_company=settings.company_name if "sms" in settings.dunning_channels else None,
        batch_policy=BatchPolicy(
            threshold=settings.batch_review_threshold, window_s=settings.batch_review_window_s
        ),
        plans=playbook.plan if playbook.uses_plans else None,
        pacer=SharedChannelPacer(db=db),  # every worker process keeps one pace per channel
    )
    deps = SlackDeps(
        db=db,
        finance_approvers=frozenset(settings.finance_approvers),
        account_managers=frozenset(settings.account_managers),
        livemode=livemode,
        company_name=settings.company_name,
        dunning_channels=frozenset(settings.dunning_channels),
        stripe_dashboard=settings.environment != "demo",
        drafter_follows_instructions=settings.llm_provider != "template",
        playbook=playbook,
    )
    bolt = build_bolt_app(
        signing_secret=settings.slack_signing_secret.get_secret_value(), client=client, deps=deps
    )
    return SlackParts(client=client, notifier=notifier, bolt=bolt)


def build_runtime(
    settings: Settings,
    *,
    billing: Billing | None = None,
    notifier: Notifier | None = None,
    configure_logs: bool = True,
) -> Runtime:
    """Everything wired. `billing`/`notifier` override the configured ones (demo, tests);
    an overriding billing stays the caller's to close, the others close with the runtime."""
    playbook = load_configured_playbook(settings)  # an invalid rules file stops the start
    if configure_logs:
        configure_logging(
            fmt=settings.log_format, level=settings.log_level, secrets=secret_values(settings)
        )
    db = Database(settings.database_url)
    owned_billing = build_billing(settings) if billing is None else None
    drafter = build_drafting(settings, db=db)
    livemode = bool(
        settings.stripe_api_key
        and settings.stripe_api_key.get_secret_value().startswith(("sk_live", "rk_live"))
    )
    slack = build_slack(settings, db, livemode=livemode, playbook=playbook)
    reader = billing or owned_billing
    assert reader is not None
    mailer = build_mail(settings)
    playbooks = build_playbook_runner(
        settings, db=db, playbook=playbook, billing=reader, mailer=mailer, slack=slack
    )
    if slack is not None:
        register_playbook_slack(playbooks, slack=slack, settings=settings)
    task_targets = build_task_targets(settings)
    engine = RecoveryEngine(
        db=db,
        billing=reader,
        drafter=drafter,
        mailer=mailer,
        notifier=notifier or (slack.notifier if slack else None),
        config=replace(
            recovery_config(settings),
            playbook_event_types=playbook_event_types(playbook),
            refresh_customer_facts=True,
            dunning_plans=playbook.uses_plans,
        ),
        pay_links=build_pay_links(settings),
        sms_sender=build_sms_sender(settings),
        task_targets=task_targets,
    )
    customers = CustomerFactsService(
        db=db,
        history=cast("CustomerHistory", reader) if hasattr(reader, "invoice_history") else None,
        rating=settings.customer_rating,
        listener=build_customer_rules(settings, playbook),
    )
    plans = build_plan_service(
        settings, db=db, playbook=playbook, reader=reader, cases=engine.cases, runner=playbooks
    )
    if slack is not None:
        register_plan_slack(plans, slack=slack, settings=settings)
    runtime = Runtime(
        settings=settings,
        plans=plans,
        customers=customers,
        db=db,
        engine=engine,
        billing=reader,
        slack=slack,
        playbook=playbook,
        playbooks=playbooks,
    )
    if owned_billing is not None:
        runtime.resources.push_async_callback(owned_billing.aclose)
    runtime.resources.push_async_callback(drafter.aclose)
    if task_targets is not None:
        runtime.resources.push_async_callback(task_targets.aclose)
    return runtime


def job_handlers(runtime: Runtime) -> dict[JobKind, JobHandler]:
    """Every job kind's handler, in one place (Slack's only when Slack is configured)."""
    handlers: dict[JobKind, JobHandler] = dict(runtime.require_engine().job_handlers())
    if runtime.playbooks is not None:
        handlers.update(playbook_job_handlers(runtime.playbooks))
    if runtime.plans is not None:
        handlers.update(plan_job_handlers(runtime.plans, notifier=plan_notifier(runtime)))
    if runtime.customers is not None:
        handlers.update(customer_job_handlers(runtime.customers, runtime=runtime))
    slack = runtime.slack
    if slack is not None:
        from bot.slack.jobs import slack_job_handlers

        settings = runtime.settings
        handlers.update(
            slack_job_handlers(
                db=runtime.db,
                notifier=slack.notifier,
                client=slack.client,
                billing=runtime.require_billing(),
                finance_approvers=frozenset(settings.finance_approvers),
                account_managers=frozenset(settings.account_managers),
                playbook=runtime.playbook,
            )
        )
    handlers.update(dead_job_handlers(runtime, slack))
    expected = set(JobKind) - (set() if slack is not None else SLACK_JOB_KINDS)
    missing = sorted(expected - handlers.keys())
    if missing:
        raise RuntimeError(f"job kinds without a handler: {', '.join(missing)}")
    return handlers


def build_customer_rules(settings: Settings, playbook: Playbook) -> CustomerRules:
    """The playbook's customer rules, escaping template values for Slack."""
    from bot.playbooks.slack_text import escape_template_text, escape_value

    return CustomerRules(
        playbook=playbook,
        config=CustomerRulesConfig(
            dry_run=settings.playbooks_dry_run,
            escape_value=escape_value,
            escape_text=escape_template_text,
        ),
    )


def customer_job_handlers(
    service: CustomerFactsService, *, runtime: Runtime
) -> dict[JobKind, JobHandler]:
    """Handlers of the customer facts and rules job kinds."""
    from bot.slack.customer_notifier import SlackCustomerNotifier

    settings = runtime.settings
    actions = CustomerActions(
        db=runtime.db,
        notifier=SlackCustomerNotifier(client=runtime.slack.client) if runtime.slack else None,
        channels={
            "alerts": settings.alerts_channel,
            "collections": settings.collections_channel,
            "approvals": settings.slack_approvals_channel,
        },
    )

    async def refresh(job: ClaimedJob) -> None:
        await service.refresh(str(job.payload["customer_id"]))

    async def act(job: ClaimedJob) -> None:
        await actions.run(job.payload)

    return {JobKind.REFRESH_CUSTOMER: refresh, JobKind.CUSTOMER_ACTION: act}


def dead_job_handlers(runtime: Runtime, slack: SlackParts | None) -> dict[JobKind, JobHandler]:
    """A dead job reaches a person: an alert in Slack, or an ERROR log line without Slack."""
    from bot.dead_jobs import log_job_died_handler

    handlers: dict[JobKind, JobHandler] = {JobKind.JOB_DIED: log_job_died_handler(runtime.db)}
    if slack is None:
        return handlers
    from bot.slack.dead_job_alert import dead_job_alert_handlers

    channel = runtime.settings.alerts_channel
    alerts = dead_job_alert_handlers(db=runtime.db, client=slack.client, channel=channel or "")
    handlers[JobKind.SLACK_DEAD_JOB_CARD] = alerts[JobKind.SLACK_DEAD_JOB_CARD]
    if channel:
        handlers[JobKind.JOB_DIED] = alerts[JobKind.JOB_DIED]
    return handlers


def build_worker(runtime: Runtime) -> Worker:
    return Worker(
        runtime.db,
        {kind.value: handler for kind, handler in job_handlers(runtime).items()},
        lease_s=runtime.settings.job_lease_s,
        poll_s=runtime.settings.worker_poll_s,
        concurrency=runtime.settings.worker_concurrency,
        observer=runtime.metrics.observe_job,
    )


def build_app(
    settings: Settings, *, run_worker: bool = True, inline_worker: bool = False
) -> FastAPI:
    """The web app; its worker in a supervised child process, in-process (`inline_worker`),
    or none (`run_worker=False`: web only)."""
    runtime = build_runtime(settings)
    if not run_worker:
        return create_app(runtime)
    if inline_worker:
        return create_app(runtime, worker=build_worker(runtime))
    from bot.worker_process import WorkerSupervisor

    return create_app(runtime, worker_process=WorkerSupervisor())
