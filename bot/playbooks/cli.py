"""`dunbot rules check|test|replay`: the tools for the people who write rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli_style import PLAIN

rules_app = typer.Typer(
    help="Playbook rules: check, test and replay.", no_args_is_help=True, **PLAIN
)

MAX_EVENT_FILE_BYTES = 1024 * 1024
FileOption = Annotated[
    Path | None,
    typer.Option(
        "--file",
        "-f",
        metavar="FILE",
        help="Rules file (default: PLAYBOOKS_FILE or ./playbooks.toml).",
    ),
]


def _settings() -> Any:
    from bot.cli import _settings as load_settings

    return load_settings()


def _rules_path(file: Path | None) -> Path:
    if file is not None:
        return file
    path = _settings().playbooks_path
    if path is None:
        typer.secho(
            "No rules file: set PLAYBOOKS_FILE, create ./playbooks.toml "
            "(start from playbooks.example.toml) or pass --file.",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)
    return Path(path)


def _load(path: Path) -> Any:
    from recovery.playbooks.loader import PlaybookInvalid, load_playbook_file

    try:
        return load_playbook_file(path)
    except PlaybookInvalid as invalid:
        typer.secho(invalid.report(), fg="red", err=True)
        raise typer.Exit(1) from None


@rules_app.command("check")
def check(file: FileOption = None) -> None:
    """Validate the rules file: every problem is printed with its line (exit 1 if any)."""
    from bot.playbooks.loading import required_write_permissions

    path = _rules_path(file)
    playbook = _load(path)
    enabled = [r for r in playbook.rules if r.enabled]
    typer.secho(f"{path}: {len(playbook.rules)} rule(s), {len(enabled)} enabled — OK", fg="green")
    for rule in playbook.rules:
        state = "on" if rule.enabled else "off"
        mode = " (dry-run)" if rule.mode == "dry-run" else ""
        typer.echo(f"  [{state}] {rule.name}{mode}  v{rule.version}  on {', '.join(rule.triggers)}")
    for permission, names in sorted(required_write_permissions(playbook).items()):
        typer.echo(f"  needs Stripe write permission {permission}: " + "; ".join(names))
    for plan in playbook.plans:
        typer.echo(f"  [plan] {plan.name}: {plan.summary()}")
        if plan.stripe_writes:
            typer.echo(
                f"  needs Stripe write permission {', '.join(plan.stripe_writes)}: plan {plan.name}"
            )


@rules_app.command("test")
def test(
    event: Annotated[
        Path,
        typer.Option("--event", metavar="FILE", help="A Stripe event as JSON (evt_… file)."),
    ],
    file: FileOption = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not re-read referenced objects from Stripe.")
    ] = False,
) -> None:
    """Which rules match an event, the condition that failed for the others, what each action
    would do. Nothing is changed. Objects the event refers to are re-read from Stripe when
    STRIPE_API_KEY is set (reads only), else used when expanded in the event."""
    from bot.playbooks.report import print_test_report
    from recovery.playbooks.facts import EventFacts
    from recovery.playbooks.fields import object_kind

    playbook = _load(_rules_path(file))
    payload = _read_event(event)
    kind = object_kind(payload["type"])
    if kind is None:
        typer.secho(f'dunbot does not know the event type "{payload["type"]}".', fg="red", err=True)
        raise typer.Exit(1)
    facts = EventFacts.from_event(payload, kind=kind)
    settings = None
    try:
        settings = _settings()
    except typer.Exit:
        settings = None
    if settings is not None and settings.stripe_api_key is not None and not offline:
        import asyncio

        from bot.playbooks.replaying import read_facts_from_stripe

        asyncio.run(read_facts_from_stripe(settings, playbook, facts))
    print_test_report(playbook, payload, facts, settings=settings, echo=typer.echo)


def _read_event(path: Path) -> dict[str, Any]:
    try:
        size = path.stat().st_size
        if size > MAX_EVENT_FILE_BYTES:
            raise ValueError(f"the file is larger than {MAX_EVENT_FILE_BYTES} bytes")
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        typer.secho(f"Cannot read {path}: {error}", fg="red", err=True)
        raise typer.Exit(2) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        typer.secho(
            f'{path} is not a Stripe event: expected {{"type": …, "data": {{"object": …}}}} '
            "(as in the Stripe dashboard's event view or `stripe events retrieve`).",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)
    if not isinstance(payload.get("type"), str) or not isinstance(
        payload["data"].get("object"), dict
    ):
        typer.secho(f"{path}: the event has no type or no data.object.", fg="red", err=True)
        raise typer.Exit(2)
    return payload


@rules_app.command("replay")
def replay(
    since: Annotated[
        str, typer.Option("--since", metavar="PERIOD", help="How far back: 30d, 12h, 2w.")
    ] = "30d",
    rule: Annotated[
        str | None, typer.Option("--rule", metavar="NAME", help="Only this rule (its name).")
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not re-read objects from Stripe.")
    ] = False,
    file: FileOption = None,
) -> None:
    """Run the rules over the stored events of a period without side effects and print what
    would have happened (refunds, alerts, metadata changes, with amounts per currency)."""
    import asyncio

    from bot.playbooks.replaying import replay_stored_events
    from recovery.playbooks.durations import DurationError, parse_duration

    playbook = _load(_rules_path(file))
    if rule is not None and playbook.rule(rule) is None:
        names = ", ".join(f'"{r.name}"' for r in playbook.rules)
        typer.secho(f'No rule named "{rule}". Rules: {names}', fg="red", err=True)
        raise typer.Exit(2)
    try:
        period = parse_duration(since)
    except DurationError as error:
        typer.secho(f"--since: {error}", fg="red", err=True)
        raise typer.Exit(2) from None
    settings = _settings()
    report = asyncio.run(
        replay_stored_events(
            settings, playbook, period=period, rule_name=rule, read_stripe=not offline
        )
    )
    for line in report.lines():
        typer.echo(line)
