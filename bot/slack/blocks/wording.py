"""Labels every card family shares: customer, invoice, who did it and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.slack.blocks.kit import BODY_DISPLAY_MAX, FALLBACK_TEXT_MAX, NAME_MAX, SUBJECT_MAX
from bot.slack.mrkdwn import (
    date_text,
    escape_inline,
    escape_mrkdwn,
    escape_truncated,
    fit,
    quote,
    truncate,
    user_mention,
    utc_text,
)
from recovery.domain import AttemptStage

STAGE_WORDS = {
    AttemptStage.FIRST: "first attempt",
    AttemptStage.FOLLOW_UP: "follow-up",
    AttemptStage.FINAL: "final attempt",
}


@dataclass(frozen=True, slots=True)
class ShownDraft:
    """A draft as a card shows it: subject escaped and cut, body as a mrkdwn quote, cut."""

    subject: str
    body: str
    shortened: bool  # the body was cut to fit


def _quoted(text: str) -> str:
    return quote(escape_mrkdwn(text))


def shown_draft(*, subject: str, body: str, body_max: int = BODY_DISPLAY_MAX) -> ShownDraft:
    """`subject` and `body` of a draft, escaped for mrkdwn and cut to the display limits."""
    text = body.replace("\r\n", "\n").strip()
    shown = fit(text, body_max, _quoted) if text else ">(empty)"
    return ShownDraft(
        subject=escape_truncated(subject, SUBJECT_MAX, inline=True),
        body=shown,
        shortened=len(shown) < len(_quoted(text)),
    )


def customer_label(name: str | None, email: str | None) -> str:
    """`Jane Doe (jane@example.com)`, escaped for mrkdwn; either part may be missing."""
    clean_name = " ".join((name or "").split())
    clean_email = (email or "").strip()
    if clean_name and clean_email:
        return (
            f"{escape_truncated(clean_name, NAME_MAX, inline=True)} "
            f"({escape_truncated(clean_email, NAME_MAX, inline=True)})"
        )
    if clean_name or clean_email:
        return escape_truncated(clean_name or clean_email, NAME_MAX, inline=True)
    return "unknown customer"


def invoice_label(invoice_id: str, number: str | None) -> str:
    """`invoice ABC-0001 (in_123)` or `invoice in_123`, escaped for mrkdwn."""
    ident = escape_truncated(invoice_id, 64, inline=True)
    if number and number.strip():
        return f"invoice {escape_truncated(number, 64, inline=True)} ({ident})"
    return f"invoice {ident}"


def who(user_id: str | None) -> str:
    """A mention for a Slack user id; anything else (system actions) reads as 'dunbot'."""
    if not user_id:
        return "dunbot"
    try:
        return user_mention(user_id)
    except ValueError:
        return escape_inline(user_id)


def when(moment: datetime | None, *, for_blocks: bool) -> str:
    """` at <date>` (Slack date markup in blocks, UTC text in fallbacks), or nothing."""
    if moment is None:
        return ""
    return f" at {date_text(moment) if for_blocks else utc_text(moment)}"


def fallback(*parts: str) -> str:
    """The notification text of a message: the non-empty parts, cut to our budget."""
    return truncate(" ".join(p for p in parts if p), FALLBACK_TEXT_MAX)


def strip_emoji(line: str) -> str:
    """A status line without its leading `:emoji:` (for notification text)."""
    if line.startswith(":"):
        _, _, rest = line[1:].partition(": ")
        return rest or line
    return line


_NUMBER_WORDS = (
    "no",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
)


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """`one open case`, `three open cases`, `no open cases`, `42 open cases`: as people write."""
    noun = singular if count == 1 else (plural or f"{singular}s")
    number = _NUMBER_WORDS[count] if 0 <= count < len(_NUMBER_WORDS) else f"{count:,}"
    return f"{number} {noun}"
