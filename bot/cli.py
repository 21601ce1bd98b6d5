"""The `dunbot` command line.

Start-up stays fast (`dunbot --help` and configuration errors well under a second, see
bench/cli_startup.py): this module imports only typer and what every command needs; each
command imports its own parts (settings, the database, the adapters and their SDKs) when it
runs, and checks its settings before importing anything heavy. Help is plain click output with
metavars (`--invoice ID`), no rich panels or `<str>`/`<bool>` type labels.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from bot.cli_style import PLAIN
from bot.playbooks.cli import rules_app

if TYPE_CHECKING:
    from bot.settings import Settings

app = typer.Typer(
    help="dunbot: recover failed Stripe payments with Slack approvals.",
    no_args_is_help=True,
    add_completion=False,
    **PLAIN,
)
T = TypeVar("T")
db_app = typer.Typer(help="Database schema.", no_args_is_help=True, **PLAIN)
app.add_typer(db_app, name="db")
app.add_typer(rules_app, name="rules")


def _settings(**overrides: Any) -> Settings:
    from pydantic import ValidationError

    from bot.settings import Settings

    try:
        return Settings(**overrides)
    except ValidationError as error:
        typer.secho("Configuration is invalid:", fg="red", err=True)
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"]).upper()
            typer.secho(f"  {name}: {problem['msg']}", err=True)
        typer.secho("Fix the environment (see .env.example) or dunbot.toml.", err=True)
        raise typer.Exit(2) from None


def _or_config_error(build: Callable[[], T]) -> T:
    """Build the app's parts, turning a configuration problem into a message, not a trace."""
    try:
        return build()
    except (RuntimeError, ValueError) as error:
        typer.secho(f"Cannot start: {error}", fg="red", err=True)
        typer.secho("Run `dunbot check` for the full list (or `dunbot demo` to try it).", err=True)
        raise typer.Exit(2) from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (safe to run on every start)."""
    from storage.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    typer.echo("database is up to date")


def _fail_fast(settings: Settings, *, billing: bool = True) -> None:
    """Stop with the first missing setting before anything heavy is imported (exit 2)."""
    from bot.startup import missing_settings

    problems = missing_settings(settings, billing=billing)
    if problems:
        typer.secho(f"Cannot start: {problems[0]}", fg="red", err=True)
        typer.secho("Run `dunbot check` for the full list (or `dunbot demo` to try it).", err=True)
        raise typer.Exit(2)


def _require_migrated(settings: Settings, *, mark_serve: bool = True) -> None:
    """Refuse to start on a database that is not migrated; mark it as used by `serve` (the
    read-only commands pass `mark_serve=False`)."""
    import asyncio

    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    from bot.checks import DATABASE_URL_EXAMPLES
    from bot.database_mode import mark
    from storage.db import Database
    from storage.instance import DatabaseMode
    from storage.migrate import head_revision, is_up_to_date

    async def check() -> bool:
        db = Database(settings.database_url)
        try:
            return await is_up_to_date(db)
        finally:
            await db.dispose()

    try:
        make_url(settings.database_url)
    except (ArgumentError, ValueError):
        typer.secho(
            f"DATABASE_URL is not a database URL. {DATABASE_URL_EXAMPLES}", fg="red", err=True
        )
        raise typer.Exit(2) from None
    if not asyncio.run(check()):
        typer.secho(
            f"The database is not migrated to the current schema ({head_revision()}).\n"
            "Run `dunbot db upgrade` first (with the same DATABASE_URL).",
            fg="red",
            err=True,
        )
        raise typer.Exit(1)
    if mark_serve:
        mark(settings.database_url, DatabaseMode.SERVE)  # `dunbot demo` now refuses this database


@app.command()
def serve(
    host: Annotated[str, typer.Option(metavar="HOST", help="Interface to listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(metavar="PORT", help="Port to listen on.")] = 8000,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Web only.")] = False,
    inline_worker: Annotated[
        bool,
        typer.Option(
            "--inline-worker",
            help="Run the worker in the web process (SERVE_WORKER=inline), not in a child.",
        ),
    ] = False,
) -> None:
    """Run the web app (Stripe webhook, Slack, health, metrics) and the worker.

    The worker runs in a supervised child process (restarted if it dies, stopped with the
    server) so jobs never slow the webhook; --inline-worker keeps it in the web process.
    """
    settings = _settings()
    _fail_fast(settings)
    _require_migrated(settings)

    import uvicorn

    from bot.app import freeze_startup_heap
    from bot.server import server_config
    from bot.wiring import build_app

    inline = inline_worker or settings.serve_worker == "inline"
    application = _or_config_error(
        lambda: build_app(settings, run_worker=not no_worker, inline_worker=inline)
    )
    freeze_startup_heap()
    uvicorn.Server(server_config(application, host=host, port=port)).run()


@app.command()
def worker(
    supervised: Annotated[bool, typer.Option("--supervised", hidden=True)] = False,
    report_fd: Annotated[int | None, typer.Option("--report-fd", hidden=True)] = None,
) -> None:
    """Run only the job worker (scale out on PostgreSQL)."""
    import asyncio
    import signal

    settings = _settings()
    _fail_fast(settings)
    _require_migrated(settings)

    from bot.playbooks.wiring import start_playbook_schedules
    from bot.wiring import build_runtime, build_worker

    async def main() -> None:
        runtime = _or_config_error(lambda: build_runtime(settings))
        async with runtime.resources:  # closes every client and the database on the way out
            await runtime.open_clients()
            await start_playbook_schedules(runtime.playbooks)
            job_worker = build_worker(runtime)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            if supervised:  # `dunbot serve`'s child: woken through stdin, stopped at its EOF
                from bot.worker_process import follow_parent, job_reporter

                await follow_parent(wake=job_worker.wake, stop=stop)
                if report_fd is not None:  # job runs reach the web process's /metrics
                    job_worker.observer = job_reporter(report_fd)
            await job_worker.run(stop)

    asyncio.run(main())


jobs_app = typer.Typer(help="Dead jobs and jobs waiting to retry.", **PLAIN)
app.add_typer(jobs_app, name="jobs")


@jobs_app.callback(invoke_without_command=True)
def jobs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(metavar="N", help="How many to list.")] = 50,
) -> None:
    """List dead jobs and jobs waiting to retry, with their last error."""
    import asyncio

    if ctx.invoked_subcommand is not None:
        return
    from storage.db import Database
    from storage.queue import failed_jobs

    settings = _settings()

    async def main() -> None:
        db = Database(settings.database_url)
        try:
            rows = await failed_jobs(db, limit=limit)
        finally:
            await db.dispose()
        if not rows:
            typer.echo("no failed or dead jobs")
            return
        for job in rows:
            typer.echo(
                f"#{job.id} {job.kind} {job.status} attempts={job.attempts}/{job.max_attempts} "
                f"next={job.run_at:%Y-%m-%d %H:%M:%S} key={job.dedupe_key or '-'}\n"
                f"    {job.last_error}"
            )

    asyncio.run(main())


@jobs_app.command("retry")
def jobs_retry(
    job_id: Annotated[
        int, typer.Argument(metavar="ID", help="The dead job's id (#… in `dunbot jobs`).")
    ],
) -> None:
    """Run a dead job again with a fresh set of attempts (the Retry button of its alert)."""
    import asyncio

    from bot.dead_jobs import retry_job
    from storage.db import Database

    settings = _settings()

    async def main() -> bool:
        db = Database(settings.database_url)
        try:
            async with db.transaction() as session:
                outcome = await retry_job(session, job_id=job_id, actor="cli")
        finally:
            await db.dispose()
        if outcome.ok:
            typer.echo(outcome.message)
        else:
            typer.secho(outcome.message, fg="red", err=True)
        return outcome.ok

    if not asyncio.run(main()):
        raise typer.Exit(1)


@app.command()
def draft(
    invoice: Annotated[
        str, typer.Option("--invoice", metavar="ID", help="Stripe invoice id (in_…).")
    ],
) -> None:
    """Print the draft and email dunbot would propose for an invoice (dry run, nothing sent)."""
    import asyncio

    if not invoice.startswith("in_"):
        typer.secho(f"{invoice!r} is not an invoice id (in_…).", fg="red", err=True)
        raise typer.Exit(2)
    settings = _settings()
    _fail_fast(settings)

    from bot.wiring import build_billing, build_drafting, recovery_config
    from recovery.preview import preview_draft
    from recovery.protocols import BillingError, NotFoundError

    async def main() -> None:
        async with AsyncExitStack() as clients:
            billing = build_billing(settings)
            clients.push_async_callback(billing.aclose)
            drafter = build_drafting(settings)
            clients.push_async_callback(drafter.aclose)
            preview = await preview_draft(
                billing=billing,
                drafter=drafter,
                config=recovery_config(settings),
                invoice_id=invoice,
            )
        typer.echo(f"segment: {preview.decision.segment} — " + "; ".join(preview.decision.reasons))
        if preview.note:
            typer.secho(f"note: {preview.note}", fg="yellow")
        d = preview.draft
        typer.echo(
            f"draft ({d.source}, {d.provider}, prompt {d.prompt_version})"
            + (f", fallback: {d.fallback_reason}" if d.fallback_reason else "")
        )
        for note in d.guardrail_notes:
            typer.echo(f"  guardrail: {note}")
        if preview.email is None:
            typer.echo("no email address on the invoice or customer")
            return
        typer.echo(f"\nTo: {preview.email.to_addr}\nSubject: {preview.email.subject}\n")
        typer.echo(preview.email.text_body)

    try:
        asyncio.run(main())
    except RuntimeError as error:
        typer.secho(str(error), fg="red", err=True)
        raise typer.Exit(2) from None
    except NotFoundError:
        typer.secho(f"Stripe has no invoice {invoice}.", fg="red", err=True)
        raise typer.Exit(1) from None
    except BillingError as error:
        typer.secho(f"Stripe could not be read: {error}", fg="red", err=True)
        raise typer.Exit(1) from None


@app.command()
def demo(
    port: Annotated[
        int, typer.Option(metavar="PORT", help="Port to listen on (127.0.0.1 only).")
    ] = 8000,
    keep: Annotated[
        bool,
        typer.Option("--keep", help="Keep ./dunbot-demo.db and ./outbox from an earlier run."),
    ] = False,
) -> None:
    """The whole product with no accounts: SQLite, sandbox billing and a sandbox Slack page."""
    import uvicorn

    from bot.database_mode import DemoRefused, ensure_demo_may_use, mark
    from bot.sandbox.demo import (
        DEMO_DATABASE_URL,
        build_demo_app,
        demo_settings,
        reset_demo_db,
        reset_demo_outbox,
    )
    from bot.server import server_config
    from storage.instance import DatabaseMode
    from storage.migrate import upgrade

    settings = demo_settings(port=port)
    own_file = settings.database_url == DEMO_DATABASE_URL
    if own_file and not keep:
        reset_demo_db()  # the sandbox Slack and billing live in memory: start both sides fresh
    try:
        ensure_demo_may_use(settings.database_url, own_file=own_file)
    except DemoRefused as refusal:
        typer.secho(str(refusal), fg="red", err=True)
        raise typer.Exit(2) from None
    if not keep:
        reset_demo_outbox(settings.email_outbox_dir)  # the outbox shows this run's emails only
    upgrade(settings.database_url)
    mark(settings.database_url, DatabaseMode.DEMO)
    application = build_demo_app(settings, port=port)
    typer.secho("dunbot demo — nothing leaves this machine.", fg="green")
    typer.echo(f"  sandbox Slack and Stripe:  http://127.0.0.1:{port}/sandbox")
    typer.echo(f"  recovery dashboard:        http://127.0.0.1:{port}/dashboard")
    typer.echo(f"  database: {settings.database_url}   emails: {settings.email_outbox_dir}/")
    typer.echo("  Ctrl+C to stop.")
    uvicorn.Server(server_config(application, host="127.0.0.1", port=port)).run()


@app.command()
def audit(
    since: Annotated[
        str, typer.Option(metavar="SPAN", help="How far back: 7d, 12h, 2w or a date 2026-11-01.")
    ] = "7d",
    customer: Annotated[
        str | None, typer.Option(metavar="CUSTOMER", help="Only this customer (cus_… or email).")
    ] = None,
    invoice: Annotated[
        str | None, typer.Option(metavar="INVOICE", help="Only this invoice (in_…).")
    ] = None,
    limit: Annotated[int, typer.Option(metavar="N", help="At most this many entries.")] = 500,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (as the dashboard exports).")] = (
        False
    ),
) -> None:
    """Who did what, when and why: the audit log, newest first."""
    import asyncio

    from bot.audit_cli import build_query, print_audit
    from recovery.history import HistoryQueryError

    try:
        query = build_query(since=since, customer=customer, invoice=invoice)
    except HistoryQueryError as error:
        typer.secho(str(error), fg="red", err=True)
        raise typer.Exit(2) from None
    settings = _settings()
    _require_migrated(settings, mark_serve=False)
    count = asyncio.run(
        print_audit(
            database_url=settings.database_url,
            query=query,
            limit=max(1, limit),
            as_csv=as_csv,
            echo=typer.echo,
        )
    )
    if count == 0 and not as_csv:
        typer.echo(
            f"No audit entries since {query.since:%Y-%m-%d %H:%M} UTC."
            if query.since
            else "No audit entries."
        )


customers_app = typer.Typer(
    help="Customer facts and rule assignments.", no_args_is_help=True, **PLAIN
)
app.add_typer(customers_app, name="customers")


@rules_app.command("apply")
def rules_apply(
    customers: Annotated[
        str,
        typer.Option(
            "--customers", metavar="all|CUSTOMER", help="Every known customer, or one cus_… id."
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only print what would change.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Apply without asking.")] = False,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", metavar="FILE", help="Rules file (default: PLAYBOOKS_FILE)."),
    ] = None,
) -> None:
    """Apply the customer rules' assignments (owner, dunning plan, exclusion) to existing
    customers: a dry-run summary first, then (after a yes) the same for real."""
    if customers != "all" and not customers.startswith("cus_"):
        typer.secho(f"--customers {customers!r}: write all or a cus_… id", fg="red", err=True)
        raise typer.Exit(2)
    settings = _settings()
    path = file or settings.playbooks_path
    if path is None:
        typer.secho("No rules file: set PLAYBOOKS_FILE or pass --file.", fg="red", err=True)
        raise typer.Exit(2)
    _require_migrated(settings, mark_serve=False)
    import asyncio

    from bot.customers_cli import apply_customer_rules
    from recovery.playbooks.loader import PlaybookInvalid, load_playbook_file

    try:
        playbook = load_playbook_file(path)
    except PlaybookInvalid as invalid:
        typer.secho(invalid.report(), fg="red", err=True)
        raise typer.Exit(1) from None

    def confirm(_preview: Any) -> bool:
        return yes or typer.confirm("Apply these changes?", default=False)

    asyncio.run(
        apply_customer_rules(
            settings=settings,
            playbook=playbook,
            customers=customers,
            dry_run=dry_run,
            confirm=confirm,
            echo=typer.echo,
        )
    )


@customers_app.command("show")
def customers_show(
    customer: Annotated[str, typer.Argument(metavar="CUSTOMER", help="A customer id (cus_…).")],
    offline: Annotated[
        bool, typer.Option("--offline", help="Print the stored facts without asking Stripe.")
    ] = False,
) -> None:
    """A customer's facts (outstanding, delay, rating, LTV, …), owner, plan and exclusion."""
    if not customer.startswith("cus_"):
        typer.secho(f"{customer!r} is not a customer id: write cus_…", fg="red", err=True)
        raise typer.Exit(2)
    settings = _settings()
    _require_migrated(settings, mark_serve=False)
    import asyncio

    from bot.customers_cli import show_customer

    async def run() -> bool:
        billing = None
        if not offline and settings.stripe_api_key is not None:
            from bot.wiring import build_billing

            billing = build_billing(settings)
        try:
            return await show_customer(
                database_url=settings.database_url,
                customer_id=customer,
                history=billing,
                rating=settings.customer_rating,
                echo=typer.echo,
            )
        finally:
            if billing is not None:
                await billing.aclose()

    if not asyncio.run(run()):
        typer.secho(
            f"No facts for {customer}: dunbot has not seen this customer "
            "(set STRIPE_API_KEY to read it from Stripe).",
            fg="yellow",
            err=True,
        )
        raise typer.Exit(1)


@app.command()
def check() -> None:
    """Validate configuration and reach each configured service."""
    import asyncio

    from bot.checks import run_checks

    settings = _settings()
    problems = asyncio.run(run_checks(settings, echo=typer.echo))
    if problems:
        typer.secho(f"{problems} problem(s) found.", fg="red", err=True)
        raise typer.Exit(1)
    typer.secho("configuration OK", fg="green")


def main() -> None:
    """Console script entry point."""
    app()


if __name__ == "__main__":
    main()
