"""Escaping for rule templates in Slack: values are untrusted customer data, and even the
template's own text may neither mention @channel nor forge a link."""

from __future__ import annotations

import re

from bot.slack.mrkdwn import escape_inline

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SPECIAL_MENTION = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
_WORD_JOINER = "\u2060"


def escape_value(text: str) -> str:
    """A field value: displayed literally (no links, mentions or formatting), on one line."""
    return escape_inline(text)


def escape_template_text(text: str) -> str:
    """The rule's own text: keeps *bold* and line breaks, but no links or mentions."""
    escaped = "".join(_ENTITIES.get(char, char) for char in text)
    return _SPECIAL_MENTION.sub("@" + _WORD_JOINER, escaped)
