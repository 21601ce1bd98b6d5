"""Slack mrkdwn: escaping untrusted text, and the few markup helpers the cards use.

Slack parses `&`, `<` and `>` as control characters (`<!channel>`, `<@U123>`, `<url|label>`),
so they are always replaced by HTML entities. Slack has no escape for `*`, `_`, `~` and
`` ` ``: where one could open or close formatting it is swapped for a lookalike character.
Bare `@channel`, `@here` and `@everyone` get an invisible word joiner so they never notify.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_FORMATTING_LOOKALIKES = {
    "*": "\u2217",  # ∗ ASTERISK OPERATOR
    "_": "\uff3f",  # ＿ FULLWIDTH LOW LINE
    "~": "\u223c",  # ∼ TILDE OPERATOR
    "`": "\u02cb",  # ˋ MODIFIER LETTER GRAVE ACCENT
}
_WORD_JOINER = "\u2060"
_SPECIAL_MENTION = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_URL = re.compile(r"^(?:https?|mailto):[^\s<>|]+$")
ELLIPSIS = "…"


def escape_mrkdwn(text: str) -> str:
    """Make untrusted text display literally in mrkdwn: no links, mentions or formatting."""
    out: list[str] = []
    for index, char in enumerate(text):
        if char in _ENTITIES:
            out.append(_ENTITIES[char])
        elif char in _FORMATTING_LOOKALIKES and not _is_intraword(text, index):
            out.append(_FORMATTING_LOOKALIKES[char])
        else:
            out.append(char)
    return _SPECIAL_MENTION.sub("@" + _WORD_JOINER, "".join(out))


def _is_intraword(text: str, index: int) -> bool:
    """A marker between two letters/digits (`jane_doe`) can neither open nor close formatting."""
    return 0 < index < len(text) - 1 and text[index - 1].isalnum() and text[index + 1].isalnum()


def escape_inline(text: str) -> str:
    """Escape and fold whitespace to single spaces: for names and other one-line values."""
    return escape_mrkdwn(" ".join(text.split()))


def truncate(text: str, limit: int) -> str:
    """Cut plain text to at most `limit` characters, marking the cut with an ellipsis."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def escape_truncated(text: str, limit: int, *, inline: bool = False) -> str:
    """Escape, keeping the *escaped* result within `limit` without splitting an entity."""
    return fit(text, limit, escape_inline if inline else escape_mrkdwn)


def fit(text: str, limit: int, render: Callable[[str], str]) -> str:
    """`render(text)`, or the longest `render(prefix) + "…"` that is at most `limit` chars."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    rendered = render(text)
    if len(rendered) <= limit:
        return rendered
    low, high = 0, len(text) - 1  # binary search for the longest prefix that fits
    best = ELLIPSIS
    while low <= high:
        keep = (low + high) // 2
        candidate = render(text[:keep]).rstrip() + ELLIPSIS
        if len(candidate) <= limit:
            best, low = candidate, keep + 1
        else:
            high = keep - 1
    return best


def is_user_id(text: str) -> bool:
    """A Slack user id (U…/W…), safe to mention."""
    return bool(_USER_ID.match(text))


def user_mention(user_id: str) -> str:
    """`<@U123>`: mentions a Slack user; refuses anything that is not a user id."""
    if not _USER_ID.match(user_id):
        raise ValueError(f"not a Slack user id: {user_id!r}")
    return f"<@{user_id}>"


def channel_mention(channel_id: str) -> str:
    """`<#C123>`: links a channel; refuses anything that is not a channel id."""
    if not _CHANNEL_ID.match(channel_id):
        raise ValueError(f"not a Slack channel id: {channel_id!r}")
    return f"<#{channel_id}>"


def link(url: str, label: str | None = None) -> str:
    """`<url|label>` with the label escaped; refuses URLs that would break the markup."""
    if not _URL.match(url):
        raise ValueError(f"not a linkable URL: {url!r}")
    safe_url = url.replace("&", "&amp;")
    if label is None:
        return f"<{safe_url}>"
    return f"<{safe_url}|{escape_inline(label)}>"


def bold(text: str) -> str:
    """`*text*` around already-safe text (escape untrusted text first)."""
    return f"*{text}*" if text else ""


def code(text: str) -> str:
    """Inline code around a trusted identifier such as `in_123` (backticks are dropped)."""
    return f"`{escape_mrkdwn(text.replace('`', ''))}`"


def quote(text: str) -> str:
    """Block-quote already-escaped text line by line (our `>` is markup, theirs is `&gt;`)."""
    return "\n".join(f">{line}" for line in text.split("\n"))


def date_text(moment: datetime) -> str:
    """A date Slack shows in each reader's timezone, with a UTC fallback for old clients."""
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{utc_text(moment)}>"


def utc_text(moment: datetime) -> str:
    """`2026-01-02 10:00 UTC`: for notification text, where Slack's date markup isn't shown."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
