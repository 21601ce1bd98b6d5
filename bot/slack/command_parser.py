"""Parse the text of `/dunning …` into a typed command, or a CommandError that says why.

Pure: `now` is passed in, so `until` dates and durations are checked against a known clock.
The handler replies ephemerally with `str(error)` (what was wrong, then the usage).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from bot.slack.mrkdwn import escape_truncated

MAX_PAUSE = timedelta(days=366)
MAX_REASON = 500
SUBCOMMANDS = (
    "pause",
    "resume",
    "status",
    "list",
    "history",
    "exclude",
    "include",
    "mine",
    "rules",
    "help",
)

USAGE = {
    "pause": "/dunning pause <cus_…|email> [for 30d | 30d | 2w | 12h | until 2026-12-31] [reason…]",
    "resume": "/dunning resume <cus_…|email>",
    "status": "/dunning status <cus_…|email|in_…>",
    "list": "/dunning list",
    "history": "/dunning history <cus_…|in_…>",
    "exclude": "/dunning exclude <cus_…|email> [reason…]",
    "include": "/dunning include <cus_…|email>",
    "mine": "/dunning mine",
    "rules": "/dunning rules",
    "help": "/dunning help",
}


def _code_safe(text: str) -> str:
    """Trusted text for a code span: only Slack's control characters need entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_DESCRIPTIONS = {
    "pause": "hold reminders for a customer (until resumed, for a while, or until a date)",
    "resume": "lift a pause; held failures are handled at once",
    "status": "what dunbot knows about a customer or an invoice",
    "list": "open cases, oldest first",
    "history": "the last ten audit entries of a customer or an invoice",
    "exclude": "no dunning at all for a customer until included again",
    "include": "lift an exclusion; held failures are handled at once",
    "mine": "open cases of the customers you own",
    "rules": "playbook rules: on or off, firings in the last 7 days",
    "help": "this message",
}
HELP_TEXT = "Usage:\n" + "\n".join(
    f"• `{_code_safe(USAGE[n])}` — {_DESCRIPTIONS[n]}" for n in SUBCOMMANDS
)
"""The help reply, ready for Slack mrkdwn."""

_CUSTOMER_ID = re.compile(r"^cus_[A-Za-z0-9]{1,64}$")
_INVOICE_ID = re.compile(r"^in_[A-Za-z0-9]{1,64}$")
_EMAIL = re.compile(r"^[^@\s<>|]{1,64}@[^@\s<>|.]+(?:\.[^@\s<>|.]+)+$")
_MAILTO = re.compile(r"^<mailto:([^|>]+)(?:\|[^>]*)?>$")
_DURATION = re.compile(r"^([0-9]{1,4})([hdw])$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


class CommandError(ValueError):
    """The command text could not be understood; `str()` explains why and shows the usage.

    The message is Slack mrkdwn, safe to send as is: echoed input is escaped.
    """

    def __init__(self, problem: str, usage: str) -> None:
        super().__init__(f"{problem}\n{usage}")
        self.problem = problem
        self.usage = usage


class RefKind(StrEnum):
    """What a `/dunning` argument names."""

    CUSTOMER_ID = "customer_id"
    EMAIL = "email"
    INVOICE_ID = "invoice_id"


@dataclass(frozen=True)
class Ref:
    """A customer id, an email (lower-cased) or an invoice id, as typed by a person."""

    kind: RefKind
    value: str


@dataclass(frozen=True)
class Pause:
    """Hold dunning for a customer until `until` (None: until resumed)."""

    customer: Ref
    until: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Resume:
    """Lift a pause; held failures are re-evaluated at once."""

    customer: Ref


@dataclass(frozen=True)
class Status:
    """Show the state of a customer's cases, or of one invoice's case."""

    target: Ref


@dataclass(frozen=True)
class History:
    """Show the last audit entries of a customer or of one invoice's case."""

    target: Ref


@dataclass(frozen=True)
class ListCases:
    """List open cases, oldest first."""


@dataclass(frozen=True)
class Exclude:
    """Exclude a customer from dunning (reversible with include)."""

    customer: Ref
    reason: str | None = None


@dataclass(frozen=True)
class Include:
    """Lift an exclusion; held failures are re-evaluated at once."""

    customer: Ref


@dataclass(frozen=True)
class Mine:
    """Open cases of the customers the person owns."""


@dataclass(frozen=True)
class ListRules:
    """List the playbook rules with on/off and their firings in the last 7 days."""


@dataclass(frozen=True)
class Help:
    """Show the usage."""


Command = (
    Pause | Resume | Status | History | ListCases | ListRules | Exclude | Include | Mine | Help
)


def parse_command(text: str, *, now: datetime) -> Command:
    """Parse `/dunning` text; raise CommandError for anything else."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    words = text.split()
    if not words:
        return Help()
    name, args = words[0].lower(), words[1:]
    match name:
        case "help" | "-h" | "--help" | "?":
            return Help()
        case "list":
            if args:
                raise CommandError("`list` takes no arguments.", _usage("list"))
            return ListCases()
        case "rules":
            if args:
                raise CommandError("`rules` takes no arguments.", _usage("rules"))
            return ListRules()
        case "resume":
            return Resume(customer=_only_ref(args, "resume", allow_invoice=False))
        case "status":
            return Status(target=_only_ref(args, "status", allow_invoice=True))
        case "history":
            return History(target=_only_ref(args, "history", allow_invoice=True, allow_email=False))
        case "pause":
            return _parse_pause(args, now=now)
        case "mine":
            if args:
                raise CommandError("`mine` takes no arguments.", _usage("mine"))
            return Mine()
        case "include":
            return Include(customer=_only_ref(args, "include", allow_invoice=False))
        case "exclude":
            if not args:
                raise CommandError("`exclude` needs a customer.", _usage("exclude"))
            reason = " ".join(args[1:]) or None
            if reason is not None and len(reason) > MAX_REASON:
                raise CommandError(
                    f"The reason is {len(reason)} characters; keep it under {MAX_REASON}.",
                    _usage("exclude"),
                )
            return Exclude(
                customer=_parse_ref(args[0], "exclude", allow_invoice=False), reason=reason
            )
    shown = _shorten(words[0])
    raise CommandError(
        f"Unknown subcommand `{shown}`. Subcommands: {', '.join(SUBCOMMANDS)}.", HELP_TEXT
    )


def _usage(name: str) -> str:
    return f"Usage: `{_code_safe(USAGE[name])}`"


def _shorten(word: str, limit: int = 40) -> str:
    """Echo a person's word back safely: short, and escaped so it cannot ping or format."""
    return escape_truncated(word.replace("`", "'"), limit, inline=True)


def _only_ref(args: list[str], name: str, *, allow_invoice: bool, allow_email: bool = True) -> Ref:
    if not args:
        raise CommandError(f"`{name}` needs a customer.", _usage(name))
    if len(args) > 1:
        raise CommandError(f"`{name}` takes one argument, got {len(args)}.", _usage(name))
    return _parse_ref(args[0], name, allow_invoice=allow_invoice, allow_email=allow_email)


def _parse_ref(word: str, name: str, *, allow_invoice: bool, allow_email: bool = True) -> Ref:
    token = word
    if mailto := _MAILTO.match(token):  # Slack may send emails as <mailto:a@b.c|a@b.c>
        token = mailto.group(1)
    token = token.strip("<>")
    if _CUSTOMER_ID.match(token):
        return Ref(RefKind.CUSTOMER_ID, token)
    if _INVOICE_ID.match(token):
        if allow_invoice:
            return Ref(RefKind.INVOICE_ID, token)
        raise CommandError(
            f"`{name}` works on customers, not invoices: use a `cus_…` id or an email.",
            _usage(name),
        )
    if allow_email and _EMAIL.match(token):
        return Ref(RefKind.EMAIL, token.lower())
    if not allow_email:
        wanted = "a `cus_…` id or an `in_…` id"
    elif allow_invoice:
        wanted = "a `cus_…` id, an email or an `in_…` id"
    else:
        wanted = "a `cus_…` id or an email"
    raise CommandError(f"`{_shorten(word)}` is not {wanted}.", _usage(name))


def _parse_pause(args: list[str], *, now: datetime) -> Pause:
    if not args:
        raise CommandError("`pause` needs a customer.", _usage("pause"))
    customer = _parse_ref(args[0], "pause", allow_invoice=False)
    rest = args[1:]
    until: datetime | None = None
    if rest and rest[0].lower() == "for":
        if len(rest) < 2:
            raise CommandError("`for` needs a duration such as 30d, 2w or 12h.", _usage("pause"))
        until = now + _parse_duration(rest[1])
        rest = rest[2:]
    elif rest and rest[0].lower() == "until":
        if len(rest) < 2:
            raise CommandError("`until` needs a date such as 2026-12-31.", _usage("pause"))
        until = _parse_until(rest[1], now=now)
        rest = rest[2:]
    elif rest and _DURATION.match(rest[0].lower()):
        until = now + _parse_duration(rest[0])
        rest = rest[1:]
    reason = " ".join(rest) or None
    if reason is not None and len(reason) > MAX_REASON:
        raise CommandError(
            f"The reason is {len(reason)} characters; keep it under {MAX_REASON}.", _usage("pause")
        )
    return Pause(customer=customer, until=until, reason=reason)


def _parse_duration(word: str) -> timedelta:
    match = _DURATION.match(word.lower())
    if not match:
        raise CommandError(
            f"`{_shorten(word)}` is not a duration: use a number and h, d or w, e.g. 30d.",
            _usage("pause"),
        )
    count, unit = int(match.group(1)), match.group(2)
    duration = count * _UNITS[unit]
    if count == 0:
        raise CommandError("A pause must last longer than zero.", _usage("pause"))
    if duration > MAX_PAUSE:
        raise CommandError(
            f"`{word}` is too long: a pause lasts at most {MAX_PAUSE.days} days "
            "(omit the duration to pause until resumed).",
            _usage("pause"),
        )
    return duration


def _parse_until(word: str, *, now: datetime) -> datetime:
    day = _parse_date(word)
    end = datetime.combine(day, time.max, tzinfo=UTC)  # "until" includes that whole day (UTC)
    if end <= now:
        raise CommandError(f"{day.isoformat()} is in the past; pick a later date.", _usage("pause"))
    if end - now > MAX_PAUSE:
        raise CommandError(
            f"{day.isoformat()} is too far ahead: a pause lasts at most {MAX_PAUSE.days} days "
            "(omit the date to pause until resumed).",
            _usage("pause"),
        )
    return end


def _parse_date(word: str) -> date:
    if _DATE.match(word):
        try:
            return date.fromisoformat(word)
        except ValueError:
            pass
    raise CommandError(
        f"`{_shorten(word)}` is not a date: use YYYY-MM-DD, e.g. 2026-12-31.", _usage("pause")
    )
